"""OpenAPI fragments shared by the routes: error responses with examples, image bodies, PNG
replies. Caps that depend on the settings are filled in by service/http/openapi.py."""

from __future__ import annotations

from typing import Any

from service.http.schemas import ErrorResponse, PixelsRequest

# One example per error a route can answer, by status: (code, message, what it means).
Example = tuple[str, str]
EXAMPLES: dict[int, dict[str, Example]] = {
    400: {
        "malformed_body": (
            "bad_request",
            "There was an error parsing the body",  # Starlette's words (multipart, non-UTF-8)
        ),
    },
    401: {"no_key": ("unauthorized", "missing or wrong API key; send it in the X-API-Key header")},
    404: {
        "unknown_model": (
            "model_not_found",
            "no model named 'nope'; available models: conv32, mlp3d",
        ),
        "unknown_version": (
            "model_not_found",
            "model mlp3d has no version 7 served; versions: 1",
        ),
    },
    413: {
        "body_too_large": (
            "content_too_large",
            "request body is over the 4,194,304-byte limit; send less",
        ),
    },
    415: {
        "not_an_image": (
            "unsupported_media_type",
            "the upload is not an image this service reads (PNG, JPEG, GIF, BMP, WEBP)",
        ),
    },
    422: {
        "validation": (
            "validation_error",
            "query.scale: Input should be greater than or equal to 1",
        ),
    },
    503: {
        "overloaded": (
            "overloaded",
            "model mlp3d has 256 requests queued (LATENTLAB_MAX_QUEUE); retry shortly",
        ),
        "starting": ("not_ready", "the service is starting; models are not loaded yet"),
    },
}
# Errors particular to some routes, added with errors(..., extra=...).
LATENT_SIZE: dict[int, dict[str, Example]] = {
    422: {"latent_size": ("latent_size", "latent has 2 values; model mlp3d expects 3")},
}
BATCH: dict[int, dict[str, Example]] = {
    422: {
        "batch_too_large": (
            "batch_too_large",
            "batch of 300 is over the limit of 256 (LATENTLAB_MAX_BATCH); split it",
        )
    },
}
SCALE: dict[int, dict[str, Example]] = {
    422: {"scale_cap": ("scale_cap", "scale is 17; the limit is 16 (LATENTLAB_MAX_SCALE)")},
}
IMAGES: dict[int, dict[str, Example]] = {
    413: {
        "image_too_large": (
            "image_too_large",
            "image is 5000x5000 = 25,000,000 pixels; the limit is 16,777,216; scale it down "
            "(28x28 is all the model sees)",
        ),
        "request_too_large": (
            "request_too_large",
            "the 128 image(s) in this request (4096x4096, 4096x4096, 4096x4096, 4096x4096 and "
            "124 more) cost 2,168,061,952 pixels of work (decoded, plus 10x each working "
            "copy); the limit is 64,000,000 per request (LATENTLAB_MAX_REQUEST_PIXELS): send "
            "fewer or smaller images (28x28 is all the model sees)",
        ),
    },
    503: {
        "image_pool_full": (
            "image_pool_full",
            "5 uploads are being processed or waiting on this worker (LATENTLAB_IMAGE_WORKERS=1"
            ", LATENTLAB_IMAGE_QUEUE=4); retry shortly",
        ),
    },
    415: {
        "wrong_content_type": (
            "unsupported_media_type",
            "cannot read a text/plain body; send multipart/form-data with a `file` field, an "
            'image/png or image/jpeg body, or application/json {"pixels": [...]}',
        ),
    },
    422: {
        "corrupt_image": ("bad_image", "the image could not be decoded (truncated or corrupt?)"),
        "no_digit": (
            "no_digit",
            "no digit found in the image: nothing departs from the background by more than "
            "its noise (4 sigmas) and 8% of full contrast; send a picture of one handwritten "
            "digit",
        ),
        "no_file": (
            "invalid_input",
            "the multipart upload has no `file` field; send the image as `file`",
        ),
        "pixels_shape": (
            "pixels_shape",
            "pixels have shape [783]; send 784 values, 28x28, or a batch of either",
        ),
        "pixel_range": (
            "pixel_range",
            "pixels must be in [0, 1] but range over [0, 255]; divide 8-bit values by 255",
        ),
        "invalid_json": (
            "invalid_json",
            "the body is not valid JSON (Expecting value: line 1 column 12 (char 11))",
        ),
    },
}


def errors(
    *statuses: int, extra: tuple[dict[int, dict[str, Example]], ...] = ()
) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries in the shared error shape, each with examples of real answers."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        named = dict(EXAMPLES.get(status, {}))
        for more in extra:
            named.update(more.get(status, {}))
        examples = {
            name: {"value": {"error": {"code": code, "message": message, "status": status}}}
            for name, (code, message) in named.items()
        }
        responses[status] = {
            "model": ErrorResponse,
            "description": "error (see `error.message`)",
            "content": {"application/json": {"examples": examples}},
        }
    return responses


PNG = {"content": {"image/png": {}}, "description": "a greyscale PNG (a grid for a batch)"}


def _example_digit() -> list[list[float]]:
    """A stroke like a '1', so the /docs example is something the model can encode."""
    return [[1.0 if 4 <= r <= 23 and 13 <= c <= 14 else 0.0 for c in range(28)] for r in range(28)]


# No minLength: tools read binary strings as text. An empty file is a 422 `bad_image`.
_BINARY = {"type": "string", "format": "binary"}
# The image formats Pillow decodes here (service/images/codec.py); a part or body that is none of
# them is a 415, a damaged one a 422.
IMAGE_TYPES = "image/png, image/jpeg, image/gif, image/bmp, image/webp"

IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "An image of any size and colour mode (PNG, JPEG, GIF, BMP or WEBP), "
        "several `file` parts for a batch, or JSON pixels the model sees directly.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": _BINARY,
                            "minItems": 1,
                            "x-cap": "max_batch",
                            "description": "one image, or several (repeat the part) for a "
                            f"batch: {IMAGE_TYPES}; each a file upload (a part with a "
                            "filename, as curl -F file=@digit.png and browsers send it)",
                        }
                    },
                    "required": ["file"],
                },
                "encoding": {"file": {"contentType": IMAGE_TYPES}},
            },
            "image/png": {"schema": _BINARY},
            "image/jpeg": {"schema": _BINARY},
            "application/json": {
                "schema": PixelsRequest.model_json_schema(),
                "example": {"pixels": _example_digit()},
            },
        },
    }
}

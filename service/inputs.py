"""Request inputs -> float32 batches: images (multipart, raw body, or JSON pixels) and
latents. Bodies are read on the event loop; all decoding happens in the handler's thread."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from starlette.datastructures import UploadFile
from starlette.requests import Request

from service.errors import BadImage, InvalidInput, UnsupportedMedia
from service.images import open_image, to_gray
from service.preprocess import mnist_like
from service.schemas import DecodeRequest

Array = np.ndarray[Any, np.dtype[np.float32]]
Invert = Literal["auto", "true", "false"]
_IMAGE_TYPES = ("image/", "application/octet-stream")


@dataclass(frozen=True)
class ImagePayload:
    """A request's images, still undecoded: uploaded files, or a JSON pixels document."""

    files: list[bytes]
    json_body: bytes | None = None


async def read_image_payload(request: Request) -> ImagePayload:
    """Collect the body by content type; 415 for anything that cannot hold an image."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        max_batch = request.app.state.service.settings.max_batch
        # One file over the cap still parses, so the client hears "batch too large" (422).
        async with request.form(max_files=max_batch + 1, max_fields=max_batch + 1) as form:
            files = [await f.read() for f in form.getlist("file") if isinstance(f, UploadFile)]
        if not files:
            raise InvalidInput("the multipart upload has no `file` field; send the image as `file`")
        _check_batch(len(files), max_batch)
        return ImagePayload(files)
    body = await request.body()
    if ctype == "application/json":
        return ImagePayload([], body)
    if ctype == "" or ctype.startswith(_IMAGE_TYPES):
        return ImagePayload([body])
    raise UnsupportedMedia(
        f"cannot read a {ctype} body; send multipart/form-data with a `file` field, "
        'an image/png or image/jpeg body, or application/json {"pixels": [...]}'
    )


def image_batch(
    payload: ImagePayload, invert: Invert, max_pixels: int, max_batch: int
) -> tuple[Array, bool]:
    """(N, 28, 28) in [0, 1] and whether the client sent a single image."""
    if payload.json_body is not None:
        return pixel_batch(_pixels_field(payload.json_body), max_batch)
    flag = None if invert == "auto" else invert == "true"
    images = []
    for data in payload.files:
        if not data:
            raise BadImage("the image is empty (0 bytes)")
        images.append(mnist_like(to_gray(open_image(data, max_pixels)), flag))
    return np.stack(images), len(images) == 1


def _pixels_field(body: bytes) -> Any:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"the body is not valid JSON ({exc})", code="invalid_json") from exc
    if not isinstance(doc, dict) or "pixels" not in doc:
        raise InvalidInput('a JSON body must be an object {"pixels": [...]}')
    return doc["pixels"]


def pixel_batch(value: Any, max_batch: int) -> tuple[Array, bool]:
    """JSON pixels (784, 28x28, N x 784 or N x 28 x 28) -> (N, 28, 28), checked."""
    try:
        raw = np.array(value)  # JSON numbers only, as the schema says: not true, not "0.5"
        if raw.dtype.kind not in "iuf":
            raise TypeError(f"pixels of type {raw.dtype}")
        arr = raw.astype(np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "pixels must be numbers: 784 values, 28x28 nested lists, or a batch of either "
            "(rows of equal length)",
            code="pixels_shape",
        ) from exc
    single = arr.shape in ((784,), (28, 28))
    if single or (arr.ndim == 2 and arr.shape[1] == 784):  # not N x M x 784 (the schema)
        arr = arr.reshape(-1, 28, 28)
    if arr.ndim != 3 or arr.shape[1:] != (28, 28) or len(arr) == 0:
        raise InvalidInput(
            f"pixels have shape {list(np.shape(value))}; send 784 values, 28x28, "
            "or a batch of either",
            code="pixels_shape",
        )
    _check_batch(len(arr), max_batch)
    if not np.isfinite(arr).all():
        raise InvalidInput("pixels contain NaN or infinite values", code="non_finite")
    low, high = float(arr.min()), float(arr.max())
    if low < 0.0 or high > 1.0:
        raise InvalidInput(
            f"pixels must be in [0, 1] but range over [{low:g}, {high:g}]; "
            "divide 8-bit values by 255",
            code="pixel_range",
        )
    return arr, single


def latent_batch(body: DecodeRequest, name: str, dim: int, max_batch: int) -> tuple[Array, bool]:
    """The request's latents as (N, D), each checked against the model's D."""
    rows = [body.latent] if body.latent is not None else body.latents or []
    if not rows:
        raise InvalidInput("latents is empty; send at least one latent", code="latent_size")
    _check_batch(len(rows), max_batch)
    for i, row in enumerate(rows):
        if len(row) != dim:
            what = "latent" if body.latent is not None else f"latents[{i}]"
            raise InvalidInput(
                f"{what} has {len(row)} values; model {name} expects {dim}", code="latent_size"
            )
    return np.array(rows, dtype=np.float32), body.latent is not None


def _check_batch(n: int, max_batch: int) -> None:
    if n > max_batch:
        raise InvalidInput(
            f"batch of {n} is over the limit of {max_batch} (LATENTLAB_MAX_BATCH); split it",
            code="batch_too_large",
        )

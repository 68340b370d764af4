"""OpenAPI fragments shared by the routes: error responses, image bodies, PNG replies."""

from __future__ import annotations

from typing import Any

from service.schemas import ErrorResponse, PixelsRequest


def _example_digit() -> list[list[float]]:
    """A stroke like a '1', so the /docs example is something the model can encode."""
    return [[1.0 if 4 <= r <= 23 and 13 <= c <= 14 else 0.0 for c in range(28)] for r in range(28)]


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries documenting the shared error shape."""
    entry = {"model": ErrorResponse, "description": "error (see `error.message`)"}
    return {status: dict(entry) for status in statuses}


PNG = {"content": {"image/png": {}}, "description": "a greyscale PNG (a grid for a batch)"}

IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "An image of any size and colour mode (or several `file` parts for a "
        "batch), or JSON pixels the model sees directly.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {
                "schema": PixelsRequest.model_json_schema(),
                "example": {"pixels": _example_digit()},
            },
        },
    }
}

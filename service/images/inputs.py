"""A request's images -> float32 batches: uploaded files (decoded and made MNIST-like) or JSON
pixels, checked. All decoding happens in the handler's thread, never on the event loop
(service/http/inputs.py reads the bodies)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from service.errors import BadImage, InvalidInput
from service.images.codec import open_image, to_gray
from service.images.preprocess import mnist_like

Array = np.ndarray[Any, np.dtype[np.float32]]
Invert = Literal["auto", "true", "false"]


@dataclass(frozen=True)
class ImagePayload:
    """A request's images, still undecoded: uploaded files, or a JSON pixels document."""

    files: list[bytes]
    json_body: bytes | None = None


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
    check_batch(len(arr), max_batch)
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


def check_batch(n: int, max_batch: int) -> None:
    """A 422 for a batch over LATENTLAB_MAX_BATCH."""
    if n > max_batch:
        raise InvalidInput(
            f"batch of {n} is over the limit of {max_batch} (LATENTLAB_MAX_BATCH); split it",
            code="batch_too_large",
        )

"""A request's images -> float32 batches: uploaded files (decoded and made MNIST-like) or JSON
pixels, checked. Uploads are decoded in the image pool (service/images/pool.py), JSON in a
handler thread, never on the event loop (service/http/inputs.py reads the bodies)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from service.errors import ApiError, BadImage, InvalidInput
from service.images.budget import check_budget
from service.images.codec import decode, plan, probe, to_gray
from service.images.preprocess import WORK_SIDE, mnist_like

Array = np.ndarray[Any, np.dtype[np.float32]]
Invert = Literal["auto", "true", "false"]


@dataclass(frozen=True)
class ImagePayload:
    """A request's images, still undecoded: uploaded files, or a JSON pixels document."""

    files: list[bytes]
    json_body: bytes | None = None


@dataclass(frozen=True)
class Limits:
    """The caps on one request's images (LATENTLAB_MAX_PIXELS, _MAX_BATCH, _MAX_REQUEST_PIXELS)."""

    max_pixels: int
    max_batch: int
    max_request_pixels: int


def image_batch(payload: ImagePayload, invert: Invert, limits: Limits) -> tuple[Array, bool]:
    """(N, 28, 28) in [0, 1] and whether the client sent a single image."""
    if payload.json_body is not None:
        return pixel_batch(_pixels_field(payload.json_body), limits.max_batch)
    return file_batch(payload.files, invert, limits)


def file_batch(files: list[bytes], invert: Invert, limits: Limits) -> tuple[Array, bool]:
    """Uploads -> (N, 28, 28): every header read and the request's work checked against its
    budget first, so an over-budget request is refused before any pixel is decoded."""
    flag = None if invert == "auto" else invert == "true"
    probed = []
    for i, data in enumerate(files):
        with _which(i, len(files)):
            if not data:
                raise BadImage("the image is empty (0 bytes)")
            probed.append(plan(probe(data, limits.max_pixels), WORK_SIDE))
    check_budget(probed, limits.max_request_pixels)
    images = []
    for i, img in enumerate(probed):
        with _which(i, len(files)):
            images.append(mnist_like(to_gray(decode(img)), flag))
    return np.stack(images), len(images) == 1


class _which:
    """Name the image in a batch's error message: `image 3 of 8: ...`."""

    def __init__(self, index: int, count: int) -> None:
        self.prefix = f"image {index + 1} of {count}: " if count > 1 else ""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, ApiError) and self.prefix and not exc.message.startswith("image "):
            exc.message = self.prefix + exc.message


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

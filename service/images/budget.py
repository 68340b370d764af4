"""The work one request may ask for, checked from the image headers before any pixel is
decoded: the pixels all its images will decode to (after JPEG's draft scaling, see
service/images/codec.py `plan`), at most LATENTLAB_MAX_REQUEST_PIXELS.

`max_pixels` bounds one image, `max_batch` the count and the body cap the bytes, but none of
them the work: a PNG of 4096x4096 blank pixels compresses to 31 KB, so a 4 MB body can hold
128 of them, 2.1 billion pixels to decode. Each image counts the pixels it decodes to, plus
WORK_WEIGHT x the pixels of its working copy (at most WORK_SIDE px on the long side, see
service/images/preprocess.py): finding the digit costs about ten times as much per pixel as
decoding (measured: a 4096x4096 PNG decodes in ~0.3 s, 55 Mpx/s; preprocessing a 400x400
working copy takes ~30 ms, 5 Mpx/s), so 256 mid-sized images cannot slip under a budget
sized for a few large ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from service.errors import ImageTooLarge
from service.images.preprocess import WORK_SIDE

WORK_WEIGHT = 10  # preprocessing's cost per working-copy pixel, in decoded pixels


class OverBudget(ImageTooLarge):
    """413: the request's images together are more work than one request may ask for."""

    code = "request_too_large"


def image_cost(img: Image.Image) -> int:
    """One probed, planned image's work in pixels: what it decodes to (its size after `plan`)
    plus WORK_WEIGHT x its working copy."""
    width, height = img.size
    scale = min(1.0, WORK_SIDE / max(width, height, 1))
    return width * height + WORK_WEIGHT * round(width * scale) * round(height * scale)


def request_cost(images: Sequence[Image.Image]) -> int:
    return sum(image_cost(img) for img in images)


def check_budget(images: Sequence[Image.Image], max_request_pixels: int) -> None:
    """413 when the request's images would decode to more than its pixel budget."""
    total = request_cost(images)
    if total <= max_request_pixels:
        return
    sizes = ", ".join(f"{img.size[0]}x{img.size[1]}" for img in images[:4])
    more = f" and {len(images) - 4} more" if len(images) > 4 else ""
    raise OverBudget(
        f"the {len(images)} image(s) in this request ({sizes}{more}) cost {total:,} pixels of "
        f"work (decoded, plus {WORK_WEIGHT}x each working copy); the limit is "
        f"{max_request_pixels:,} per request (LATENTLAB_MAX_REQUEST_PIXELS): "
        "send fewer or smaller images (28x28 is all the model sees)"
    )

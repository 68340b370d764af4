"""Image bytes <-> pixel arrays: uploads of any size and colour mode are decoded (with their
size checked first) to grey, which service/images/preprocess.py makes into 28x28 digits; results
are written back out as greyscale PNGs."""

from __future__ import annotations

import io
import math
import struct
import warnings
import zlib
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import BadImage, ImageTooLarge, UnsupportedMedia

Array = np.ndarray[Any, np.dtype[np.float32]]
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def open_image(data: bytes, max_pixels: int, side: int | None = None) -> Image.Image:
    """Decode one upload, checking its size before any pixels are decoded; with `side`, a
    JPEG is decoded at the smallest of 1/1-1/8 scale that keeps `side` px on its long side."""
    return decode(plan(probe(data, max_pixels), side))


def probe(data: bytes, max_pixels: int) -> Image.Image:
    """The image's header only (format, size, mode), its size checked against max_pixels:
    no pixels are decoded yet."""
    try:
        with warnings.catch_warnings():  # Pillow's bomb warning is a refusal here, everywhere
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
        _check_size(img, max_pixels)
        return img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(
            f"image rejected as a decompression bomb; {max_pixels:,} pixels at most"
        ) from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedMedia(
            f"the upload is not an image this service reads ({', '.join(FORMATS)})"
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadImage("the image could not be decoded (truncated or corrupt?)") from exc


def plan(img: Image.Image, side: int | None) -> Image.Image:
    """Set a probed JPEG to decode at reduced size (its draft mode, libjpeg's DCT scaling:
    1/2, 1/4 or 1/8) while its long side stays at least `side` px; img.size then says the
    size it will decode at. Other formats decode at full size. Decodes nothing."""
    if side is not None and img.format == "JPEG" and max(img.size) > side:
        width, height = img.size
        long = max(width, height)
        wanted = (-(-width * side // long), -(-height * side // long))  # rounded up
        img.draft(img.mode if img.mode in ("L", "RGB") else None, wanted)
    return img


def decode(img: Image.Image) -> Image.Image:
    """Decode a probed (and planned) image's pixels, upright as its EXIF says."""
    try:
        img.load()
        return ImageOps.exif_transpose(img)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadImage("the image could not be decoded (truncated or corrupt?)") from exc


def _check_size(img: Image.Image, max_pixels: int) -> None:
    width, height = img.size
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"image is {width}x{height} = {width * height:,} pixels; the limit is "
            f"{max_pixels:,}; scale it down (28x28 is all the model sees)"
        )
    if width == 0 or height == 0:
        raise BadImage("image has no pixels")


def to_gray(img: Image.Image) -> Array:
    """Luminance in [0, 1], whatever the mode."""
    gray: Array
    if img.mode.startswith("I"):  # 16/32-bit grey: convert("L") would clip, so scale
        raw = np.asarray(img, dtype=np.float32)
        gray = np.clip(raw / (65535.0 if raw.max(initial=0) > 255 else 255.0), 0.0, 1.0)
    elif img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        gray = _flatten_alpha(img.convert("RGBA"))
    else:
        gray = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    return gray


def _flatten_alpha(rgba: Image.Image) -> Array:
    """Transparent areas take the colour that contrasts with the (opaque) ink."""
    lum = np.asarray(rgba.convert("L"), dtype=np.float32) / 255.0
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
    ink = float((lum * alpha).sum() / alpha.sum()) if alpha.sum() > 0 else 0.0
    background = 0.0 if ink > 0.5 else 1.0
    out: Array = lum * alpha + background * (1.0 - alpha)
    return out


def to_png(images: Array, scale: int = 1) -> bytes:
    """(N, 28, 28) in [0, 1] -> one greyscale PNG: the image, or a near-square grid."""
    rows, cols = grid_shape(images.shape[0])
    grid = np.zeros((rows * 28, cols * 28), np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * 28 : (r + 1) * 28, c * 28 : (c + 1) * 28] = image
    pixels = (grid * 255.0 + 0.5).astype(np.uint8)
    if scale > 1:  # nearest neighbour: each pixel becomes a scale x scale block
        pixels = pixels.repeat(scale, axis=0).repeat(scale, axis=1)
    return _grey_png(pixels)


def _grey_png(pixels: np.ndarray[Any, np.dtype[np.uint8]]) -> bytes:
    """An 8-bit greyscale PNG, written directly (PNG spec, ISO/IEC 15948): half the time
    of Pillow's encoder for a 28x28 digit, which matters on the /decode hot path."""
    height, width = pixels.shape
    rows = np.zeros((height, width + 1), np.uint8)  # each row starts with filter type 0
    rows[:, 1:] = pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit, greyscale
    idat = zlib.compress(rows.tobytes(), 1)
    return _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of the grid to_png lays n images out on."""
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols

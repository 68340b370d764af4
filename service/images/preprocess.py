"""A photo, scan or drawing of one digit -> the 28x28 image MNIST would have made of it.

One function per step, in the order `mnist_like` runs them:

1. `reduce`     Photos are box-averaged down to WORK_SIDE px on the long side: the digit stays
                far larger than the 20 px it ends up as, and averaging also cancels noise.
2. `background` The page's brightness as a smooth surface: a quadratic in x and y, refitted
                without the outliers (ink, dust) until it settles, from several starting
                levels, so that a digit filling its frame is not taken for the page
                (service/images/background.py). It follows a shadow across the page or
                vignetting, which no single background level can.
3. `polarity`   invert=auto: ink is whatever departs from that surface, so it is dark on
                light paper when more departs below it than above it.
4. `contrast`   Each pixel as the share of the way from the local background to full ink.
                Ink absorbs a share of the light that reaches it, so dividing by the local
                background gives ink in the shadow the same value as ink in the light.
5. `threshold`  Otsu's threshold (Otsu 1979, IEEE SMC-9(1)) on a lightly smoothed copy, but
                never inside the background noise: the ink's pixels, as a mask.
6. `components` The mask's pieces: the biggest is the digit, with fragments a pen skip
                away and sizeable pieces close to it; specks, and page edges or frames that
                hug the border while a digit lies elsewhere, are dropped
                (service/images/components.py says how each is told apart). Ink touching
                the border is kept: a digit cropped to its ink box touches all four sides.
7. `levels`     The noise floor maps to 0 and the ink's typical value to 1, as in MNIST,
                whose strokes are saturated in the middle.
8. `strokes`    Optional: a stroke far thinner or thicker than MNIST's for a digit of that
                size (a fine pen, a fat marker) is drawn out or worn down to MNIST's band.
9. MNIST's own recipe (LeCun et al. 1998): the ink's box scaled so its longer side is 20 px,
   keeping the aspect ratio, then placed in 28x28 with its centre of mass at the centre.

A real 28x28 MNIST digit passes through unchanged: its background is exactly 0, so the
surface is 0, and it is too small for steps 1 and 8. An upload in which step 5 finds no ink
(a blank page, a uniform image) raises NoDigit (a 422), except a 28x28 one, which is taken
as given: a blank 28x28 input is a blank digit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from service.errors import NoDigit
from service.images.background import (
    MIN_CONTRAST,
    NOISE_SIGMAS,
    background,
    polarity,
    quiet_side_sigma,
)
from service.images.components import components
from service.images.strokes import normalise_strokes

Array = np.ndarray[Any, np.dtype[np.float32]]
Mask = np.ndarray[Any, np.dtype[np.bool_]]

WORK_SIDE = 400  # step 1: long side of the working copy, px
# Step 7: this percentile of the ink's pixels becomes full ink (1.0). MNIST's strokes are
# saturated: in the sample the 75th percentile of pixels above 0.5 is typically 0.992.
INK_LEVEL = 75
# Images up to this size were drawn at the model's scale (MNIST itself, a 28x28 canvas):
# only their peak maps to 1, as MNIST's own did, and their strokes are left as drawn.
MODEL_SIDE = 32
STROKE_SIDE = 80  # step 8: strokes are measured and reshaped with the box at this size
_INK = 0.1  # pixels above this (after levels) count for the ink's bounding box


def mnist_like(gray: Array, invert: bool | None, strokes: bool = True) -> Array:
    """(H, W) grey in [0, 1] -> (28, 28) light-on-dark digit; invert None decides.
    Raises NoDigit when no ink is found (unless the input is 28x28: taken as given)."""
    gray = reduce(gray)
    surface = background(gray)
    if invert is None:
        invert = polarity(gray, surface)
    ink = contrast(gray, surface, invert)
    noise = quiet_side_sigma(ink)
    mask = threshold(ink, noise)
    if not mask.any():
        if gray.shape == (28, 28):
            return np.zeros((28, 28), np.float32)  # blank, as sent: nothing to centre
        raise NoDigit(_NO_DIGIT)
    box, digit, dropped = components(ink, mask)
    drawn = max(gray.shape) <= MODEL_SIDE  # drawn at the model's scale: keep it as drawn
    window = levels(np.where(dropped, 0.0, ink), digit, noise, 100 if drawn else INK_LEVEL)[box]
    edge = 0.5 / 255 if drawn else _INK  # a drawn digit's faintest grey level is part of it
    crop = _ink_box(window, edge)
    if strokes and not drawn:  # reshaped strokes move the box's edges: crop again
        crop = _ink_box(normalise_strokes(_fit(crop, STROKE_SIDE)), edge)
    return centre(_fit(crop, 20))


_NO_DIGIT = (
    "no digit found in the image: nothing departs from the background by more than its "
    f"noise ({NOISE_SIGMAS:g} sigmas) and {MIN_CONTRAST:.0%} of full contrast; send a "
    "picture of one handwritten digit"
)


def _ink_box(window: Array, edge: float) -> Array:
    """The smallest part of the window holding every pixel above `edge`."""
    rows, cols = np.flatnonzero((window > edge).any(1)), np.flatnonzero((window > edge).any(0))
    if rows.size == 0:
        return window
    return window[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def reduce(gray: Array) -> Array:
    """Step 1: box-average down to WORK_SIDE px on the long side (smaller stays as is)."""
    return _fit(gray, WORK_SIDE, Image.Resampling.BOX) if max(gray.shape) > WORK_SIDE else gray


def contrast(gray: Array, surface: Array, invert: bool) -> Array:
    """Step 4: the share of the way from the local background to full ink: about 0 on the
    background (give or take its noise, so not clipped yet) and up to 1 on the ink."""
    if invert:  # dark ink: the share of the paper's light it absorbs
        ink = (surface - gray) / np.maximum(surface, 0.05)
    else:  # light ink: the share of the way to white
        ink = (gray - surface) / np.maximum(1.0 - surface, 0.05)
    out: Array = np.minimum(ink, 1.0).astype(np.float32)
    return out


def threshold(ink: Array, noise: float) -> Mask:
    """Step 5: Otsu on a smoothed copy (noisy images only), above the noise and a floor."""
    from scipy import ndimage  # lazily: importing it costs 0.4 s of start-up

    smooth = ndimage.gaussian_filter(ink, 1.0) if noise > 0.01 else ink
    floor = NOISE_SIGMAS * min(noise, quiet_side_sigma(smooth))  # smoothing only lowers it
    cut = max(otsu(np.clip(smooth, 0.0, 1.0)), floor, MIN_CONTRAST)
    mask: Mask = smooth > cut
    return mask


def otsu(values: Array, bins: int = 256) -> float:
    """The threshold that maximises the between-class variance of values in [0, 1]."""
    hist = np.histogram(values, bins=bins, range=(0.0, 1.0))[0].astype(np.float64)
    p = hist / max(hist.sum(), 1.0)
    centres = (np.arange(bins) + 0.5) / bins
    omega, mu = np.cumsum(p), np.cumsum(p * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * omega - mu) ** 2 / (omega * (1.0 - omega))
    return float(np.argmax(np.nan_to_num(between[:-1])) + 1) / bins


def levels(ink: Array, mask: Mask, noise: float, percentile: float) -> Array:
    """Step 7: noise floor -> 0, the ink's given percentile -> 1."""
    floor = 2.0 * noise
    level = max(float(np.percentile(ink[mask], percentile)), floor + 0.05)
    out: Array = np.clip((ink - floor) / (level - floor), 0.0, 1.0).astype(np.float32)
    return out


def _fit(image: Array, side: int, resample: Image.Resampling = Image.Resampling.LANCZOS) -> Array:
    """Scale so the longer side is `side` px, keeping the aspect ratio."""
    h, w = image.shape
    size = (max(1, round(w * side / max(h, w))), max(1, round(h * side / max(h, w))))
    img = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32))
    resized = img.resize(size, resample, reducing_gap=3.0)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def centre(patch: Array) -> Array:
    """Paste into 28x28 with the centre of mass on pixel (14, 14), where MNIST puts it (the
    sample's digits average (13.99, 14.03)), so a real MNIST digit comes back unchanged."""
    h, w = patch.shape
    total = float(patch.sum())
    cy = float((patch.sum(1) * np.arange(h)).sum()) / total if total else (h - 1) / 2
    cx = float((patch.sum(0) * np.arange(w)).sum()) / total if total else (w - 1) / 2
    top = min(max(round(14.0 - cy), 0), 28 - h)
    left = min(max(round(14.0 - cx), 0), 28 - w)
    out = np.zeros((28, 28), np.float32)
    out[top : top + h, left : left + w] = patch
    return out

"""The page under the digit: its brightness as a smooth surface, the noise around it, and
which side of it the ink lies on (steps 2 and 3 of service/images/preprocess.py).

A tight crop breaks the assumption that most pixels are paper: a cropped `0` or a thick `1`
is ink over much of its frame. So the surface is not fitted from the median alone: it is
fitted from a few starting levels (the median, the border's median, a dark and a light
percentile) and the fit that the most pixels agree with wins, counting the border's pixels a
second time, because even a digit cropped to its ink box leaves most of its border as paper.
Noise is measured on the side of the surface where there is no ink, so any amount of ink
leaves it alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

Array = np.ndarray[Any, np.dtype[np.float32]]
Floats = np.ndarray[Any, np.dtype[np.float64]]

SURFACE_SIDE = 48  # the surface is fitted on a copy this small (it is smooth)
SURFACE_CUT = 2.5  # residuals beyond this many robust sigmas are not background
AGREE = 0.03  # a pixel agrees with a surface within this (or 3 noise sigmas, if more)
START_PERCENTILES = (10, 90)  # the dark and light starting levels, beside the two medians
NOISE_SIGMAS = 4.0  # ink departs from the background by at least this many noise sigmas
MIN_CONTRAST = 0.08  # ... and at least this share of full contrast
QUIET_SHARE = 0.02  # the quiet side needs this share of the pixels to measure noise on
FLAT_SIDE = 32  # images this small (8x8 scans, 28x28 canvases) get a flat background


def background(gray: Array) -> Array:
    """Step 2: the background's brightness over the image, a robust quadratic surface."""
    big = max(gray.shape) > SURFACE_SIDE
    small = _box(gray, SURFACE_SIDE) if big else gray
    basis = _quadratic_basis(*small.shape)
    values = small.ravel().astype(np.float64)
    border = _border(*small.shape).ravel()
    agree = max(AGREE, 3.0 * fine_noise(small))
    if max(gray.shape) <= FLAT_SIDE:  # a drawing at the model's scale: one level, as drawn
        basis, agree = basis[:, :1], AGREE  # (a curved surface would bend into its ink)
    starts = [
        float(np.median(values)),
        float(np.median(values[border])),
        *(float(p) for p in np.percentile(values, START_PERCENTILES)),
    ]
    best, best_score = np.zeros(basis.shape[1]), -1.0
    for start in starts:
        coef = _refit(basis, values, start, agree)
        near = np.abs(values - basis @ coef) <= agree
        score = float(near.mean() + near[border].mean())
        if score > best_score + 1e-9:
            best, best_score = coef, score
    return _quadratic(np.pad(best, (0, 6 - best.size)), *gray.shape)


def _refit(basis: Floats, values: Floats, start: float, agree: float) -> Floats:
    """The quadratic fitted to the pixels within `agree` of `start`, then refitted to those
    within SURFACE_CUT robust sigmas of it until that set stops changing."""
    coef: Floats = np.zeros(basis.shape[1], np.float64)
    coef[0] = start
    inliers = np.abs(values - start) <= agree
    for _ in range(8):
        if inliers.sum() < basis.shape[1]:
            break
        # Least squares; lstsq, not the normal equations, so that a one-row or one-column
        # image (no x or no y to fit) gets the minimum-norm surface instead of an error.
        if basis.shape[1] == 1:  # a flat level: the median, so that MNIST's 0 stays 0
            coef = np.array([np.median(values[inliers])], np.float64)
        else:
            coef = np.linalg.lstsq(basis[inliers], values[inliers], rcond=None)[0].astype(
                np.float64
            )
        residual = values - basis @ coef
        sigma = max(1.4826 * float(np.median(np.abs(residual[inliers]))), 0.005)
        settled, inliers = inliers, np.abs(residual) <= SURFACE_CUT * sigma
        if np.array_equal(inliers, settled):
            break
    return coef


def polarity(gray: Array, surface: Array) -> bool:
    """Step 3: True (invert: dark ink) when more departs darker from the background than
    lighter, each side counted beyond the noise."""
    residual = gray - surface
    cut = max(NOISE_SIGMAS * quiet_side_sigma(residual), MIN_CONTRAST)
    darker = float(np.clip(-residual - cut, 0.0, None).sum())
    lighter = float(np.clip(residual - cut, 0.0, None).sum())
    return darker > lighter


def quiet_side_sigma(values: Array) -> float:
    """The background's noise, from the side of 0 with less spread (ink lies on the other):
    1.4826 x the median distance from 0 there, from at most ~20,000 evenly spread pixels.
    A side holding under QUIET_SHARE of the pixels shows too little background to measure
    (ink in nearly every pixel): then 0, and MIN_CONTRAST alone keeps noise out of the ink."""
    sample = values.ravel()[:: max(1, values.size // 20_000)]
    below, above = np.abs(sample[sample <= 0]), sample[sample >= 0]
    enough = max(QUIET_SHARE * sample.size, 4)
    spreads = [float(np.median(side)) for side in (below, above) if side.size >= enough]
    return 1.4826 * min(spreads) if spreads else 0.0


def fine_noise(image: Array) -> float:
    """Pixel noise from the finest diagonal detail (Donoho and Johnstone 1994, Biometrika
    81(3)): median |HH| / 0.6745. Flat ink and flat paper both give 0 there, so it does not
    grow with the share of ink, only with the share of edges."""
    if min(image.shape) < 2:
        return 0.0
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    a = image[:h:2, :w:2] - image[1:h:2, :w:2] - image[:h:2, 1:w:2] + image[1:h:2, 1:w:2]
    return float(np.median(np.abs(a))) / 2.0 / 0.6745


def _border(height: int, width: int) -> np.ndarray[Any, np.dtype[np.bool_]]:
    mask = np.zeros((height, width), bool)
    mask[0], mask[-1], mask[:, 0], mask[:, -1] = True, True, True, True
    return mask


def _box(image: Array, side: int) -> Array:
    """Box-average so the longer side is `side` px."""
    h, w = image.shape
    size = (max(1, round(w * side / max(h, w))), max(1, round(h * side / max(h, w))))
    img = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32))
    return np.asarray(img.resize(size, Image.Resampling.BOX), dtype=np.float32)


def _quadratic_basis(height: int, width: int) -> Floats:
    """1, x, y, x^2, xy, y^2 at every pixel centre, as (H * W, 6); x and y in [-1, 1]."""
    y, x = _coordinates(height, width)
    x, y = np.broadcast_to(x, (height, width)).ravel(), np.broadcast_to(y, (height, width)).ravel()
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


def _quadratic(c: Floats, height: int, width: int) -> Array:
    """The surface c0 + c1 x + c2 y + c3 x^2 + c4 xy + c5 y^2 over the image, (H, W)."""
    y, x = _coordinates(height, width)
    surface: Array = (c[0] + c[2] * y + c[5] * y * y) + (c[1] + c[4] * y) * x + c[3] * x * x
    return surface.astype(np.float32)


def _coordinates(height: int, width: int) -> tuple[Floats, Floats]:
    """Pixel centres in [-1, 1]: a (H, 1) column of y and a (1, W) row of x."""
    y = ((2 * np.arange(height) + 1) / height - 1.0)[:, None]
    x = ((2 * np.arange(width) + 1) / width - 1.0)[None, :]
    return y, x

"""A photo, scan or drawing of one digit -> the 28x28 image MNIST would have made of it.

One function per step, in the order `mnist_like` runs them:

1. `reduce`     Photos are box-averaged down to WORK_SIDE px on the long side: the digit stays
                far larger than the 20 px it ends up as, and averaging also cancels noise.
2. `background` The page's brightness as a smooth surface: a quadratic in x and y, refitted
                without the outliers (ink, dust) until it settles. It follows a shadow across
                the page or vignetting, which no single background level can.
3. `polarity`   invert=auto: ink is whatever departs from that surface, so it is dark on
                light paper when more departs below it than above it.
4. `contrast`   Each pixel as the share of the way from the local background to full ink.
                Ink absorbs a share of the light that reaches it, so dividing by the local
                background gives ink in the shadow the same value as ink in the light.
5. `threshold`  Otsu's threshold (Otsu 1979, IEEE SMC-9(1)) on a lightly smoothed copy, but
                never inside the background noise: the ink's pixels, as a mask.
6. `components` Mask fragments less than a stroke width apart are one group (a closing);
                the group with the most ink is the digit, with any sizeable groups close to
                it (a pen that skipped). Dust, specks and page edges are dropped.
7. `levels`     The noise floor maps to 0 and the ink's typical value to 1, as in MNIST,
                whose strokes are saturated in the middle.
8. `strokes`    Optional: a stroke far thinner or thicker than MNIST's for a digit of that
                size (a fine pen, a fat marker) is drawn out or worn down to MNIST's band.
9. MNIST's own recipe (LeCun et al. 1998): the ink's box scaled so its longer side is 20 px,
   keeping the aspect ratio, then placed in 28x28 with its centre of mass at the centre.

A real 28x28 MNIST digit passes through unchanged: its background is exactly 0, so the
surface is 0, and it is too small for steps 1 and 8.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

Array = np.ndarray[Any, np.dtype[np.float32]]
Mask = np.ndarray[Any, np.dtype[np.bool_]]
Box = tuple[slice, ...]  # (rows, cols), as ndimage.find_objects gives them

WORK_SIDE = 400  # step 1: long side of the working copy, px
SURFACE_SIDE = 48  # step 2: the surface is fitted on a copy this small (it is smooth)
SURFACE_CUT = 2.5  # step 2: residuals beyond this many robust sigmas are not background
NOISE_SIGMAS = 4.0  # step 5: the ink threshold is at least this far above background noise
MIN_CONTRAST = 0.08  # step 5: ... and at least this share of full ink
KEEP_SHARE = 0.1  # step 6: a second group needs this share of the digit's ink ...
KEEP_REACH = 0.3  # ... and must lie within this share of the digit's size from it
# Step 7: this percentile of the ink's pixels becomes full ink (1.0). MNIST's strokes are
# saturated: in the sample the 75th percentile of pixels above 0.5 is typically 0.992.
INK_LEVEL = 75
# Images up to this size were drawn at the model's scale (MNIST itself, a 28x28 canvas):
# only their peak maps to 1, as MNIST's own did, and their strokes are left as drawn.
MODEL_SIDE = 32
STROKE_SIDE = 80  # step 8: strokes are measured and reshaped with the box at this size
# Step 8: MNIST's stroke width as a share of the box's longer side (2 x the medial-axis
# distance, stroke_width below), in the committed test sample rendered at 12x and measured
# as step 8 measures (`uv run python -m bench.bench_realworld --calibrate`): 5th percentile
# 0.0625, median 0.1125, 95th 0.164. Outside that band, strokes are reshaped to the median.
STROKE_BAND = (0.0625, 0.164)
STROKE_TARGET = 0.1125
_INK = 0.1  # pixels above this (after levels) count for the ink's bounding box


def mnist_like(gray: Array, invert: bool | None, strokes: bool = True) -> Array:
    """(H, W) grey in [0, 1] -> (28, 28) light-on-dark digit; invert None decides."""
    gray = reduce(gray)
    surface = background(gray)
    if invert is None:
        invert = polarity(gray, surface)
    ink = contrast(gray, surface, invert)
    noise = _robust_sigma(ink)
    mask = threshold(ink, noise)
    if not mask.any():
        return np.zeros((28, 28), np.float32)  # blank: nothing to centre
    box, digit, dropped = components(ink, mask)
    drawn = max(gray.shape) <= MODEL_SIDE  # drawn at the model's scale: keep it as drawn
    window = levels(np.where(dropped, 0.0, ink), digit, noise, 100 if drawn else INK_LEVEL)[box]
    edge = 0.5 / 255 if drawn else _INK  # a drawn digit's faintest grey level is part of it
    crop = _ink_box(window, edge)
    if strokes and not drawn:  # reshaped strokes move the box's edges: crop again
        crop = _ink_box(normalise_strokes(_fit(crop, STROKE_SIDE)), edge)
    return centre(_fit(crop, 20))


def _ink_box(window: Array, edge: float) -> Array:
    """The smallest part of the window holding every pixel above `edge`."""
    rows, cols = np.flatnonzero((window > edge).any(1)), np.flatnonzero((window > edge).any(0))
    if rows.size == 0:
        return window
    return window[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def reduce(gray: Array) -> Array:
    """Step 1: box-average down to WORK_SIDE px on the long side (smaller stays as is)."""
    return _fit(gray, WORK_SIDE, Image.Resampling.BOX) if max(gray.shape) > WORK_SIDE else gray


def background(gray: Array) -> Array:
    """Step 2: the background's brightness, a quadratic surface fitted robustly: it starts
    as the median level (most pixels are background) and is refitted to the pixels within
    SURFACE_CUT robust sigmas of it until that set stops changing."""
    big = max(gray.shape) > SURFACE_SIDE
    small = _fit(gray, SURFACE_SIDE, Image.Resampling.BOX) if big else gray
    basis = _quadratic_basis(*small.shape)
    values = small.ravel().astype(np.float64)
    coef: np.ndarray[Any, Any] = np.array([np.median(values), 0, 0, 0, 0, 0], np.float64)
    inliers = np.ones(values.size, bool)
    for _ in range(8):
        residual = values - basis @ coef
        sigma = max(1.4826 * float(np.median(np.abs(residual[inliers]))), 0.005)
        settled, inliers = inliers, np.abs(residual) <= SURFACE_CUT * sigma
        if inliers.sum() < 6 or (coef[1:].any() and np.array_equal(inliers, settled)):
            break
        # Least squares; lstsq, not the normal equations, so that a one-row or one-column
        # image (no x or no y to fit) gets the minimum-norm surface instead of an error.
        coef = np.linalg.lstsq(basis[inliers], values[inliers], rcond=None)[0]
    return _quadratic(coef, *gray.shape)


def _quadratic_basis(height: int, width: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """1, x, y, x^2, xy, y^2 at every pixel centre, as (H * W, 6); x and y in [-1, 1]."""
    y, x = _coordinates(height, width)
    x, y = np.broadcast_to(x, (height, width)).ravel(), np.broadcast_to(y, (height, width)).ravel()
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


def _quadratic(c: np.ndarray[Any, Any], height: int, width: int) -> Array:
    """The surface c0 + c1 x + c2 y + c3 x^2 + c4 xy + c5 y^2 over the image, (H, W)."""
    y, x = _coordinates(height, width)
    surface: Array = (c[0] + c[2] * y + c[5] * y * y) + (c[1] + c[4] * y) * x + c[3] * x * x
    return surface.astype(np.float32)


def _coordinates(height: int, width: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Pixel centres in [-1, 1]: a (H, 1) column of y and a (1, W) row of x."""
    y = ((2 * np.arange(height) + 1) / height - 1.0)[:, None]
    x = ((2 * np.arange(width) + 1) / width - 1.0)[None, :]
    return y, x


def polarity(gray: Array, surface: Array) -> bool:
    """Step 3: True (invert) when more departs darker from the background than lighter."""
    residual = gray - surface
    cut = max(NOISE_SIGMAS * _robust_sigma(residual), MIN_CONTRAST)
    darker = float(np.clip(-residual - cut, 0.0, None).sum())
    lighter = float(np.clip(residual - cut, 0.0, None).sum())
    return darker > lighter


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
    cut = max(otsu(np.clip(smooth, 0.0, 1.0)), NOISE_SIGMAS * _robust_sigma(smooth), MIN_CONTRAST)
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


def components(ink: Array, mask: Mask) -> tuple[Box, Mask, Mask]:
    """Step 6: the digit's box (grown by a stroke width, for the soft rim), its ink pixels,
    and the pixels (with their rim) of the components dropped as specks."""
    from scipy import ndimage  # lazily: importing it costs 0.4 s of start-up

    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    mass = np.asarray(ndimage.sum_labels(ink, labels, np.arange(1, count + 1)))
    boxes = ndimage.find_objects(labels)
    main = int(np.argmax(mass))
    width = max(stroke_width(labels[boxes[main]] == main + 1), 1.0)
    size = max(_extent(boxes[main]))
    group, kept = boxes[main], {main}
    candidates = [i for i in np.argsort(-mass) if mass[i] >= 0.01 * mass[main]]
    grew = True
    while grew:  # add fragments a pen skip away, and sizeable parts within reach
        grew = False
        for i in (i for i in candidates if i not in kept):
            gap = _gap(boxes[i], group)
            if gap <= 2 * width or (
                mass[i] >= KEEP_SHARE * mass[main] and gap <= KEEP_REACH * size
            ):
                group, grew = _union(group, boxes[i]), True
                kept.add(i)
    digit: Mask = np.isin(labels, [i + 1 for i in kept])
    dropped = (labels > 0) & ~digit
    if dropped.any():
        dropped = ndimage.binary_dilation(dropped, iterations=2)  # and their soft rims
    rim = int(np.ceil(width))
    box = tuple(slice(max(s.start - rim, 0), s.stop + rim) for s in group)
    return box, digit, dropped


def _union(a: Box, b: Box) -> Box:
    return tuple(
        slice(min(p.start, q.start), max(p.stop, q.stop)) for p, q in zip(a, b, strict=True)
    )


def _extent(box: Box) -> tuple[int, int]:
    return box[0].stop - box[0].start, box[1].stop - box[1].start


def _gap(a: Box, b: Box) -> float:
    """The distance between two bounding boxes (0 when they overlap)."""
    dy = max(a[0].start - b[0].stop, b[0].start - a[0].stop, 0)
    dx = max(a[1].start - b[1].stop, b[1].start - a[1].stop, 0)
    return float(np.hypot(dy, dx))


def levels(ink: Array, mask: Mask, noise: float, percentile: float) -> Array:
    """Step 7: noise floor -> 0, the ink's given percentile -> 1."""
    floor = 2.0 * noise
    level = max(float(np.percentile(ink[mask], percentile)), floor + 0.05)
    out: Array = np.clip((ink - floor) / (level - floor), 0.0, 1.0).astype(np.float32)
    return out


def stroke_width(mask: Mask) -> float:
    """Typical stroke width, px: twice the median distance to the edge along the medial axis
    (the ridge of the distance transform), less the half pixel a pixel grid adds."""
    from scipy import ndimage  # lazily: importing it costs 0.4 s of start-up

    distance = ndimage.distance_transform_edt(mask)
    ridge = mask & (distance >= ndimage.maximum_filter(distance, size=3))
    return 2.0 * float(np.median(distance[ridge])) - 1.0 if ridge.any() else 0.0


def normalise_strokes(crop: Array) -> Array:
    """Step 8: grow or wear down strokes outside MNIST's band, measured on the ink's core."""
    from scipy import ndimage  # lazily: importing it costs 0.4 s of start-up

    core = crop > 0.5
    width = stroke_width(core)
    low, high = (share * max(crop.shape) for share in STROKE_BAND)
    if width <= 0.0 or low <= width <= high:
        return crop
    change = (STROKE_TARGET * max(crop.shape) - width) / 2.0  # px to add (or take) on each side
    if change > 0:  # draw out: the ink within `change` of the core, with an anti-aliased rim
        reach = ndimage.distance_transform_edt(~core)
        grown: Array = np.maximum(crop, np.clip(change + 0.5 - reach, 0.0, 1.0), dtype=np.float32)
        return grown
    depth = ndimage.distance_transform_edt(core)  # wear down: keep what lies deeper than -change
    worn: Array = np.clip(depth + change + 0.5, 0.0, 1.0).astype(np.float32)
    return worn


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


def _robust_sigma(values: Array) -> float:
    """The spread of the (majority) background: 1.4826 x the median absolute deviation,
    from at most ~20,000 evenly spread pixels (plenty for a median, and 10x faster)."""
    sample = values.ravel()[:: max(1, values.size // 20_000)]
    return 1.4826 * float(np.median(np.abs(sample - np.median(sample))))

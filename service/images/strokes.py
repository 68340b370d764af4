"""Step 8 of service/images/preprocess.py: stroke width, measured and brought into MNIST's band."""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray[Any, np.dtype[np.float32]]
Mask = np.ndarray[Any, np.dtype[np.bool_]]

# MNIST's stroke width as a share of the box's longer side (2 x the medial-axis distance,
# stroke_width below), in the committed test sample rendered at 12x and measured as step 8
# measures (`uv run python -m bench.bench_realworld --calibrate`): 5th percentile 0.0625,
# median 0.1125, 95th 0.164. Outside that band, strokes are reshaped to the median.
STROKE_BAND = (0.0625, 0.164)
STROKE_TARGET = 0.1125


def stroke_width(mask: Mask) -> float:
    """Typical stroke width, px: twice the median distance to the edge along the medial axis
    (the ridge of the distance transform), less the half pixel a pixel grid adds."""
    from scipy import ndimage  # lazily: importing it costs 0.4 s of start-up

    distance = ndimage.distance_transform_edt(mask)
    ridge = mask & (distance >= ndimage.maximum_filter(distance, size=3))
    return 2.0 * float(np.median(distance[ridge])) - 1.0 if ridge.any() else 0.0


def normalise_strokes(crop: Array) -> Array:
    """Grow or wear down strokes outside MNIST's band, measured on the ink's core (> 0.5)."""
    from scipy import ndimage

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

"""Step 6 of service/images/preprocess.py: which of the ink mask's pieces are the digit.

The mask's connected pieces are told apart by where they lie and how big they are:

- a **page edge, frame or hard shadow** hugs the image's border: it touches the border and
  nearly all of its ink lies within a thin margin of it (a strip of table beyond the paper,
  a drawn frame, a phone's shadow along one side). It is dropped when some other piece is
  digit-sized; when nothing else is, it *is* the digit (a `0` cropped to its ink box touches
  all four sides, and its loop lies along the border);
- **dust and specks** are small: a piece under MIN_SHARE of the digit's ink, or far from it;
- the **digit** is the biggest remaining piece by ink, with the pieces a pen skip away and
  the sizeable ones within reach (a pen that skipped, a `5`'s detached bar).

Ink that touches the border is therefore never dropped for touching it: only for hugging it
while a digit lies elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from service.images.strokes import stroke_width

Array = np.ndarray[Any, np.dtype[np.float32]]
Mask = np.ndarray[Any, np.dtype[np.bool_]]
Box = tuple[slice, ...]  # (rows, cols), as ndimage.find_objects gives them

KEEP_SHARE = 0.1  # a second piece needs this share of the digit's ink ...
KEEP_REACH = 0.3  # ... and must lie within this share of the digit's size from it
MIN_SHARE = 0.01  # pieces with less than this share of the digit's ink are specks
HUG_MARGIN = 0.06  # a piece hugs the border when HUG_SHARE of its ink lies this close to it
HUG_SHARE = 0.8  # (margin as a share of the image's shorter side, 2 px at least)
# Only this many of the largest pieces can join the digit: grouping compares pieces pairwise,
# and an image of scattered dots (noise, a halftone) would otherwise cost seconds of CPU.
MAX_PIECES = 48
DIGIT_SIZE = 0.08  # a piece this large (share of the shorter side) can be a digit


def components(ink: Array, mask: Mask) -> tuple[Box, Mask, Mask]:
    """The digit's box (grown by a stroke width, for the soft rim), its ink pixels, and the
    pixels (with their rim) of the pieces dropped as specks, edges or frames."""
    from scipy import ndimage  # lazily: importing it costs 0.4 s of start-up

    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    index = np.arange(1, count + 1)
    mass = np.asarray(ndimage.sum_labels(ink, labels, index), np.float64)
    boxes = ndimage.find_objects(labels)
    hugging = _hugging(ink, labels, index, mass)
    side = min(mask.shape)
    digit_sized = np.array([max(_extent(b)) >= DIGIT_SIZE * side for b in boxes])
    free = ~hugging & digit_sized
    pool = np.flatnonzero(free) if free.any() else np.arange(count)
    main = int(pool[np.argmax(mass[pool])])
    others = np.flatnonzero(~hugging) if free.any() else np.arange(count)  # no edges, frames
    others = others[np.argsort(-mass[others])][:MAX_PIECES]  # the rest are specks
    candidates = [int(i) for i in others if mass[i] >= MIN_SHARE * mass[main]]
    kept = _group(main, boxes, mass, labels, candidates)
    digit: Mask = np.isin(labels, [i + 1 for i in kept])
    dropped = (labels > 0) & ~digit
    if dropped.any():
        dropped = ndimage.binary_dilation(dropped, iterations=2)  # and their soft rims
    group = boxes[kept[0]]
    for i in kept[1:]:
        group = _union(group, boxes[i])
    rim = int(np.ceil(max(stroke_width(labels[boxes[main]] == main + 1), 1.0)))
    box = tuple(slice(max(s.start - rim, 0), s.stop + rim) for s in group)
    return box, digit, dropped


def _hugging(ink: Array, labels: Any, index: Any, mass: Any) -> Any:
    """Per piece: does it touch the border with HUG_SHARE of its ink within the margin?"""
    from scipy import ndimage

    height, width = labels.shape
    margin = max(2, round(HUG_MARGIN * min(height, width)))
    rim = np.zeros(labels.shape, bool)
    rim[:margin], rim[-margin:], rim[:, :margin], rim[:, -margin:] = True, True, True, True
    edge = np.zeros(labels.shape, bool)
    edge[0], edge[-1], edge[:, 0], edge[:, -1] = True, True, True, True
    near = np.asarray(ndimage.sum_labels(ink * rim, labels, index), np.float64)
    touches = np.isin(index, np.unique(labels[edge]))
    return touches & (near >= HUG_SHARE * np.maximum(mass, 1e-9))


def _group(main: int, boxes: list[Box], mass: Any, labels: Any, candidates: list[int]) -> list[int]:
    """The main piece with the fragments a pen skip away and sizeable pieces within reach."""
    width = max(stroke_width(labels[boxes[main]] == main + 1), 1.0)
    size = max(_extent(boxes[main]))
    group, kept = boxes[main], [main]
    grew = True
    while grew:
        grew = False
        for i in (i for i in candidates if i not in kept):
            gap = _gap(boxes[i], group)
            sizeable = mass[i] >= KEEP_SHARE * mass[main] and gap <= KEEP_REACH * size
            if gap <= 2 * width or sizeable:
                group, grew = _union(group, boxes[i]), True
                kept.append(i)
    return kept


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

"""Realistic photos of handwritten digits, made from the committed MNIST test digits.

Each variant is what a new user sends: the digit written in dark ink on light paper,
photographed with a phone. Every step below is one thing real photos do:

1. pen      - the MNIST digit as its own soft strokes, or re-drawn along its skeleton with
              a pen of a chosen width (a fine pen, a ballpoint, a felt marker);
2. layout   - a 200-1000 px frame, the digit small (15-55% of the short side), off-centre
              and a few degrees rotated;
3. paper    - off-white paper, blue-black ink that does not quite cover, a few dust specks;
4. lighting - a brightness gradient across the page (one side in shadow) and vignetting;
5. optics   - a slight blur (focus, hand shake);
6. sensor   - noise, stronger in the shadow, per colour channel;
7. JPEG     - quality 50-90, 4:2:0 chroma subsampling, as phones save.

The command line (writing the test fixture, or JPEGs to look at) is
scripts/realworld_digits.py. Variants are stored as one .npz of JPEG bytes (`save_variants` /
`load_variants`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "mnist_test_sample.npz"
SCALE = 12  # hi-res rendering: 28 px -> 336 px, fine enough for any pen width below
# Pen widths as a fraction of the digit's height; "mnist" keeps the digit's own strokes,
# whose width (ink area / skeleton length) is 0.12 of the height in the committed sample's
# median (5th-95th percentile 0.076-0.21): a fine pen is thinner than almost all of MNIST.
PENS = {"mnist": 0.0, "fine": 0.045, "ballpoint": 0.08, "marker": 0.2}


@dataclass(frozen=True)
class Variant:
    """One photo: JPEG bytes, the digit's label, its row in the MNIST sample, its pen."""

    jpeg: bytes
    label: int
    source: int
    pen: str


def load_sample(path: Path = SAMPLE) -> tuple[np.ndarray, np.ndarray]:
    """The committed MNIST test digits: uint8 (N, 28, 28) and labels (N,)."""
    with np.load(path) as f:
        return f["images"], f["labels"].astype(np.int64)


def upscale(digit: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """uint8 (28, 28) -> float (28*scale, 28*scale) ink in [0, 1], smooth (bicubic)."""
    img = Image.fromarray(digit.astype(np.float32) / 255.0, mode="F")
    big = img.resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(big, dtype=np.float32), 0.0, 1.0)


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning (Zhang and Suen 1984, CACM 27(3)): a one-pixel-wide skeleton."""
    img = np.pad(mask, 1).astype(np.uint8)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p = _neighbours(img)  # P2..P9, clockwise from north
            count = sum(p)
            transitions = sum((p[i] < p[(i + 1) % 8]) for i in range(8))
            if step == 0:
                a, b = p[0] & p[2] & p[4], p[2] & p[4] & p[6]
            else:
                a, b = p[0] & p[2] & p[6], p[0] & p[4] & p[6]
            core = img[1:-1, 1:-1]
            drop = (core == 1) & (count >= 2) & (count <= 6) & (transitions == 1)
            drop &= (a == 0) & (b == 0)
            if drop.any():
                core[drop] = 0
                changed = True
    return img[1:-1, 1:-1].astype(bool)


def _neighbours(img: np.ndarray) -> list[np.ndarray]:
    """The 8 neighbours of every inner pixel of a padded image: N, NE, E, SE, S, SW, W, NW."""
    h, w = img.shape[0] - 2, img.shape[1] - 2
    shifts = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]
    return [img[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in shifts]


def pen_ink(digit: np.ndarray, pen: str) -> np.ndarray:
    """The digit's ink at SCALE x: its own strokes, or its skeleton drawn with a round pen."""
    ink = upscale(digit)
    if PENS[pen] == 0.0:
        return ink
    skeleton = np.zeros_like(ink, dtype=bool)  # thinned at half resolution: 4x faster
    skeleton[::2, ::2] = thin(upscale(digit, SCALE // 2) > 0.5)
    rows = np.flatnonzero(ink.max(1) > 0.5)
    radius = PENS[pen] * (rows[-1] - rows[0] + 1) / 2
    distance = ndimage.distance_transform_edt(~skeleton)
    return np.clip(radius + 0.5 - distance, 0.0, 1.0).astype(np.float32)  # anti-aliased edge


def photograph(
    ink: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (200, 1000)
) -> bytes:
    """Hi-res ink in [0, 1] -> JPEG bytes of it written on paper and photographed."""
    long_side = int(rng.integers(size[0], size[1] + 1))
    aspect = float(rng.choice([0.75, 1.0, 4 / 3]))
    height, width = long_side, round(long_side * aspect)
    if aspect > 1:
        height, width = round(long_side / aspect), long_side
    coverage = _place(ink, rng, height, width)
    paper = rng.uniform([0.82, 0.80, 0.74], [0.96, 0.95, 0.92])  # white to cream, RGB
    pigment = rng.uniform([0.05, 0.05, 0.10], [0.20, 0.20, 0.40])  # black to blue-black
    cover = coverage[..., None] * rng.uniform(0.75, 1.0)  # ink that does not quite cover
    rgb = paper * (1.0 - cover) + pigment * cover
    rgb *= _lighting(rng, height, width)[..., None]
    rgb = ndimage.gaussian_filter(rgb, sigma=(*[rng.uniform(0.4, 1.5)] * 2, 0))
    shade = 0.02 + 0.03 * rng.random()
    rgb += rng.normal(0.0, 1.0, rgb.shape) * shade / np.sqrt(np.clip(rgb, 0.05, 1.0))
    pixels = (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, format="JPEG", quality=int(rng.integers(50, 91)))
    return buf.getvalue()


def _place(ink: np.ndarray, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Ink coverage of the frame: the digit small, rotated a little, off-centre, plus dust."""
    rows, cols = np.flatnonzero(ink.max(1) > 0.05), np.flatnonzero(ink.max(0) > 0.05)
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    digit_h = max(24, round(min(height, width) * rng.uniform(0.15, 0.55)))
    digit_w = max(2, round(crop.shape[1] * digit_h / crop.shape[0]))
    img = Image.fromarray(np.ascontiguousarray(crop), mode="F")
    img = img.resize((digit_w, digit_h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    img = img.rotate(rng.uniform(-8.0, 8.0), Image.Resampling.BICUBIC, expand=True)
    digit = np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)
    frame = np.zeros((height, width), np.float32)
    top = int(rng.integers(0, height - digit.shape[0] + 1))
    left = int(rng.integers(0, width - digit.shape[1] + 1))
    frame[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    for _ in range(int(rng.integers(0, 6))):  # dust and pencil dots, each a few px
        y, x = rng.integers(0, height), rng.integers(0, width)
        r = rng.uniform(0.7, 0.012 * min(height, width) + 1)
        yy, xx = np.ogrid[:height, :width]
        frame = np.maximum(frame, np.clip(r + 0.5 - np.hypot(yy - y, xx - x), 0, 1) * 0.8)
    return frame


def _lighting(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Brightness over the frame: a linear shadow across it times a radial vignette."""
    yy, xx = np.mgrid[:height, :width]
    yy, xx = yy / height - 0.5, xx / width - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xx + np.sin(angle) * yy  # -0.7..0.7 across the frame
    shadow = 1.0 - rng.uniform(0.15, 0.45) * (ramp + 0.71) / 1.42
    vignette = 1.0 - rng.uniform(0.0, 0.3) * (xx**2 + yy**2) / 0.5
    return shadow * vignette


def make_variants(
    images: np.ndarray,
    labels: np.ndarray,
    rows: np.ndarray,
    pen: str,
    seed: int,
    size: tuple[int, int] = (200, 1000),
) -> list[Variant]:
    """One photo per sample row, all with the same pen; seeded, so reproducible."""
    rng = np.random.default_rng([seed, list(PENS).index(pen)])
    out = []
    for row in rows:
        jpeg = photograph(pen_ink(images[row], pen), rng, size)
        out.append(Variant(jpeg, int(labels[row]), int(row), pen))
    return out


def save_variants(path: Path, variants: list[Variant]) -> None:
    """All JPEGs back to back in one uint8 array, with offsets, labels, rows and pens."""
    sizes = [len(v.jpeg) for v in variants]
    np.savez(
        path,
        data=np.frombuffer(b"".join(v.jpeg for v in variants), np.uint8),
        offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        labels=np.array([v.label for v in variants], np.int64),
        source=np.array([v.source for v in variants], np.int64),
        pen=np.array([v.pen for v in variants]),
    )


def load_variants(path: Path) -> list[Variant]:
    """The inverse of save_variants."""
    with np.load(path) as f:
        data, offsets = f["data"].tobytes(), f["offsets"]
        return [
            Variant(data[offsets[i] : offsets[i + 1]], int(label), int(source), str(pen))
            for i, (label, source, pen) in enumerate(
                zip(f["labels"], f["source"], f["pen"], strict=True)
            )
        ]

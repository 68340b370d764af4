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

Beside the photos, what people send that touches or fills its frame (`make_crops`, CROPS):
the digit cut to its ink box at 28, 64 and 224 px in both polarities (a photo cropped to the
digit), drawn with a fine or a fat pen on a small canvas it fills (a drawing app's export),
and blurred low-resolution scans upscaled to a 28x28 frame they fill. And real handwritten
digits from another source: the UCI optical digits (Alpaydin and Kaynak 1998, 8x8 counts of
32x32 bitmaps by 43 writers) that scikit-learn ships on disk as `load_digits` (`uci_digits`).

The command line (writing the test fixture, or images to look at) is
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
    """One image: its bytes (JPEG for photos, PNG for crops and drawings), the digit's label,
    its row in the MNIST sample (-1 for digits from elsewhere), and its kind (a pen, or one
    of CROPS, or "uci")."""

    data: bytes
    label: int
    source: int
    kind: str


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
        data = photograph(pen_ink(images[row], pen), rng, size)
        out.append(Variant(data, int(labels[row]), int(row), pen))
    return out


def save_variants(path: Path, variants: list[Variant]) -> None:
    """All JPEGs back to back in one uint8 array, with offsets, labels, rows and pens."""
    sizes = [len(v.data) for v in variants]
    np.savez(
        path,
        data=np.frombuffer(b"".join(v.data for v in variants), np.uint8),
        offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        labels=np.array([v.label for v in variants], np.int64),
        source=np.array([v.source for v in variants], np.int64),
        pen=np.array([v.kind for v in variants]),  # "pen": the key older fixtures have
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


# Kinds of image that touch or fill their frame, each made by `crop_variant`.
CROPS = (
    "tight28-light",  # the ink box, long side 28 px, light on dark (MNIST's polarity)
    "tight28-dark",
    "tight64-light",
    "tight64-dark",  # ... 64 px, dark on light
    "tight224-light",
    "tight224-dark",
    "canvas-fine",  # drawn with a fine pen on a 64 px canvas the digit fills, dark on light
    "canvas-marker",  # ... with a fat marker
    "scan",  # scanned at 8-10 px, blurred, upscaled to a 28x28 frame it fills
)


def ink_box(ink: np.ndarray, level: float = 0.05) -> np.ndarray:
    rows, cols = np.flatnonzero(ink.max(1) > level), np.flatnonzero(ink.max(0) > level)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _resize(ink: np.ndarray, size: tuple[int, int], resample: Image.Resampling) -> np.ndarray:
    img = Image.fromarray(np.ascontiguousarray(ink, dtype=np.float32), mode="F")
    return np.clip(np.asarray(img.resize(size, resample), dtype=np.float32), 0.0, 1.0)


def _fit_long(ink: np.ndarray, side: int) -> np.ndarray:
    h, w = ink.shape
    size = (max(1, round(w * side / max(h, w))), max(1, round(h * side / max(h, w))))
    return _resize(ink, size, Image.Resampling.LANCZOS)


def png(ink: np.ndarray, dark: bool) -> bytes:
    """Ink in [0, 1] -> 8-bit greyscale PNG bytes, dark ink on white when `dark`."""
    pixels = ((1.0 - ink) if dark else ink) * 255.0 + 0.5
    buf = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L").save(buf, format="PNG")
    return buf.getvalue()


def crop_variant(digit: np.ndarray, kind: str, rng: np.random.Generator) -> bytes:
    """One MNIST digit (uint8 28x28) as an image of `kind` (see CROPS): PNG bytes."""
    if kind.startswith("tight"):
        side, polarity = kind.removeprefix("tight").split("-")
        return png(_fit_long(ink_box(upscale(digit)), int(side)), polarity == "dark")
    if kind.startswith("canvas"):
        ink = ink_box(pen_ink(digit, "fine" if kind == "canvas-fine" else "marker"))
        margin = int(rng.integers(0, 3))  # the digit fills the canvas, give or take 2 px
        canvas = np.zeros((64, 64), np.float32)
        inner = _fit_long(ink, 64 - 2 * margin)
        top = margin + (64 - 2 * margin - inner.shape[0]) // 2
        left = margin + (64 - 2 * margin - inner.shape[1]) // 2
        canvas[top : top + inner.shape[0], left : left + inner.shape[1]] = inner
        return png(canvas, dark=True)
    if kind == "scan":
        low = _fit_long(ink_box(upscale(digit)), int(rng.integers(8, 11)))
        big = _resize(low, (28, 28), Image.Resampling.BICUBIC)  # stretched to fill the frame
        big = ndimage.gaussian_filter(big, rng.uniform(0.6, 1.2))
        return png(np.clip(big / max(float(big.max()), 1e-6), 0.0, 1.0), dark=False)
    raise ValueError(f"unknown kind {kind!r}; one of {CROPS}")


def make_crops(
    images: np.ndarray, labels: np.ndarray, rows: np.ndarray, kind: str, seed: int
) -> list[Variant]:
    """One image of `kind` per sample row; seeded, so reproducible."""
    rng = np.random.default_rng([seed, 100 + CROPS.index(kind)])
    return [Variant(crop_variant(images[r], kind, rng), int(labels[r]), int(r), kind) for r in rows]


def uci_digits(count: int, first: int = 0) -> list[Variant]:
    """Real handwritten digits from outside MNIST: scikit-learn's copy of the UCI optical
    digits (8x8, 0-16 ink counts, light on dark), as 8x8 greyscale PNGs."""
    from sklearn.datasets import load_digits  # on disk in the package: nothing is downloaded

    digits = load_digits()
    out = []
    for i in range(first, min(first + count, len(digits.target))):
        ink = digits.images[i].astype(np.float32) / 16.0
        out.append(Variant(png(ink, dark=False), int(digits.target[i]), -1, "uci"))
    return out

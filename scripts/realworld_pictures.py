"""Before/after picture of the upload preprocessing, for the README.

For a few photos from the committed fixture (tests/fixtures/realworld/sample.npz), one per
row: the photo as sent, the 28x28 input the old preprocessing made of it, the input
service/images/preprocess.py makes, and the model's reconstruction of that input through the
real /reconstruct (committed conv32 by default).

    uv run python -m scripts.realworld_pictures   # -> docs/images/realworld-before-after.png
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench.bench_realworld import old_mnist_like, service
from harness.realworld_digits import PENS, load_variants
from service.images.codec import to_gray

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "realworld" / "sample.npz"
OUT = ROOT / "docs" / "images" / "realworld-before-after.png"
CELL = 112  # px per picture
HEAD = 22  # px for the column titles
TITLES = ("the photo", "old: 28x28 input", "new: 28x28 input", "reconstruction")


def cell(pixels: np.ndarray) -> Image.Image:
    """A 28x28 array in [0, 1] as a CELL-px square, nearest neighbour (pixels stay visible)."""
    grey = Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8), "L")
    return grey.resize((CELL, CELL), Image.Resampling.NEAREST)


def photo_cell(jpeg: bytes) -> Image.Image:
    """The photo, fitted into a CELL-px square on white."""
    photo = Image.open(io.BytesIO(jpeg)).convert("L")
    photo.thumbnail((CELL, CELL))
    square = Image.new("L", (CELL, CELL), 255)
    square.paste(photo, ((CELL - photo.width) // 2, (CELL - photo.height) // 2))
    return square


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="conv32")
    parser.add_argument("--rows", type=int, default=6, help="photos, spread over the pens")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    variants = [v for v in load_variants(FIXTURE) if v.kind in PENS]  # the photos only
    step = max(1, len(variants) // args.rows)
    chosen = variants[::step][: args.rows]
    sheet = Image.new("L", (CELL * len(TITLES), HEAD + CELL * len(chosen)), 255)
    draw = ImageDraw.Draw(sheet)
    for col, title in enumerate(TITLES):
        draw.text((col * CELL + 4, 5), title, fill=0)
    with service([args.model]) as client:
        for row, variant in enumerate(chosen):
            r = client.post(
                "/reconstruct",
                params={"model": args.model},
                headers={"Accept": "application/json"},
                files={"file": ("photo.jpg", variant.data, "image/jpeg")},
            )
            r.raise_for_status()
            body = r.json()
            gray = to_gray(Image.open(io.BytesIO(variant.data)))
            old = old_mnist_like(gray, None)
            pictures = (
                photo_cell(variant.data),
                cell(old),
                cell(np.asarray(body["input"])),
                cell(np.asarray(body["pixels"])),
            )
            for col, picture in enumerate(pictures):
                sheet.paste(picture, (col * CELL, HEAD + row * CELL))
            print(f"row {row}: digit {variant.label}, pen {variant.kind}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

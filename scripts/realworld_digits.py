"""Write realistic phone photos of the committed MNIST test digits, the same digits cut to their
ink box, filling a canvas or scanned small, and real UCI digits (harness/realworld_digits.py
says how each is made): the test fixture, or files to look at.

    uv run python -m scripts.realworld_digits --count 16 --uci 32 \
        --out tests/fixtures/realworld/sample.npz
    uv run python -m scripts.realworld_digits --count 12 --png-dir /tmp/realworld  # to look at
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from harness.realworld_digits import (
    CROPS,
    PENS,
    load_sample,
    make_crops,
    make_variants,
    save_variants,
    uci_digits,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=48, help="photos per pen")
    parser.add_argument("--first", type=int, default=0, help="first sample row to use")
    parser.add_argument("--pens", default=",".join(PENS), help=f"comma list of {list(PENS)}")
    parser.add_argument("--crops", default=",".join(CROPS), help=f"comma list of {list(CROPS)}")
    parser.add_argument("--uci", type=int, default=0, help="also this many real UCI digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-size", type=int, default=200, help="long side, px")
    parser.add_argument("--max-size", type=int, default=1000)
    parser.add_argument("--out", type=Path, help="write all variants to this .npz")
    parser.add_argument("--png-dir", type=Path, help="also write each as a file here")
    args = parser.parse_args(argv)
    images, labels = load_sample()
    rows = np.arange(args.first, args.first + args.count)
    variants = [
        v
        for pen in args.pens.split(",")
        for v in make_variants(images, labels, rows, pen, args.seed, (args.min_size, args.max_size))
    ]
    variants += [
        v
        for kind in filter(None, args.crops.split(","))
        for v in make_crops(images, labels, rows, kind, args.seed)
    ]
    variants += uci_digits(args.uci)
    if args.out:
        save_variants(args.out, variants)
        print(f"{len(variants)} photos, {args.out.stat().st_size:,} bytes -> {args.out}")
    if args.png_dir:
        args.png_dir.mkdir(parents=True, exist_ok=True)
        for i, v in enumerate(variants):
            suffix = "jpg" if v.data[:2] == b"\xff\xd8" else "png"
            (args.png_dir / f"{i:04d}-{v.kind}-{v.label}.{suffix}").write_bytes(v.data)


if __name__ == "__main__":
    main()

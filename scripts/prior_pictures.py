"""Before/after picture per committed model: 64 draws from the Gaussian prior (what /sample
served before issue 23) beside 64 from the learned prior, same seed, through the service's
own code (ONNX Runtime + NumPy). Writes docs/images/prior-<model>.png.

    uv run python -m scripts.prior_pictures
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from service.repository.registry import load_model

ROOT = Path(__file__).resolve().parent.parent


def grid(images: np.ndarray, cols: int = 8) -> np.ndarray:
    """(N, 28, 28) in [0, 1] -> one (rows*28, cols*28) uint8 picture."""
    rows = len(images) // cols
    tiles = images[: rows * cols].reshape(rows, cols, 28, 28).transpose(0, 2, 1, 3)
    return (tiles.reshape(rows * 28, cols * 28) * 255).round().astype(np.uint8)


def picture(folder: Path, seed: int) -> Image.Image:
    served = load_model(folder, engine="onnx")
    before = grid(served.decode(served.prior_latents(64, seed)))
    after = grid(served.decode(served.learned_latents(64, seed, None, None, None)))
    gap = np.full((before.shape[0], 14), 128, np.uint8)
    return Image.fromarray(np.hstack([before, gap, after])).resize((2 * 450 + 28, 450))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--models", type=Path, default=ROOT / "models")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    for manifest in sorted(args.models.glob("*/manifest.json")):
        if "learned_prior" in json.loads(manifest.read_text()):
            path = args.out / f"prior-{manifest.parent.name}.png"
            picture(manifest.parent, args.seed).save(path, optimize=True)
            print(path)


if __name__ == "__main__":
    main()

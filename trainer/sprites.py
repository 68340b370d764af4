"""The sprite atlas of a dataset split: every image of the split, in source order, tiled
row-major into one square-ish grayscale PNG (the TensorFlow Embedding Projector's sprite
convention: `sprite.singleImageDim` [28, 28]). Written once per dataset and split, outside the
model folders, because every model of a dataset shares its images:

    models/_datasets/<dataset>/<split>-sprite.png    the atlas
    models/_datasets/<dataset>/<split>-sprite.json   {"file", "count", "single_image_dim",
                                                      "columns", "sha256"}

The repository's scanners skip folders starting with _, so this is never taken for a model.
The train split's atlas holds its 60,000 digits at half size (14 px, 2x2 means): at 28 px it
would be a 47-megapixel, ~10 MB PNG (MNIST) in the committed repository.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

FOLDER = "_datasets"
HALF_SIZE = ("train",)  # splits whose atlas is written at half size (see above)


def atlas(images: np.ndarray) -> tuple[np.ndarray, int]:
    """(N, h, w) uint8 -> one (rows*h, columns*w) image and its column count."""
    n, h, w = images.shape
    columns = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    grid = np.zeros((rows * columns, h, w), np.uint8)
    grid[:n] = images
    tiled = grid.reshape(rows, columns, h, w).transpose(0, 2, 1, 3).reshape(rows * h, columns * w)
    return tiled, columns


def write_sprite(out: Path, dataset: str, split: str, images: np.ndarray) -> dict[str, Any]:
    """The split's atlas under `out/_datasets/<dataset>/`, unless one of the same count is
    there already (written once per dataset and split); returns its description."""
    from PIL import Image

    from trainer.export import sha256

    folder = out / FOLDER / dataset
    meta_path = folder / f"{split}-sprite.json"
    if meta_path.is_file():
        meta: dict[str, Any] = json.loads(meta_path.read_text())
        if meta.get("count") == len(images) and (folder / meta["file"]).is_file():
            return meta
    folder.mkdir(parents=True, exist_ok=True)
    images = np.asarray(images, np.uint8)
    if split in HALF_SIZE:
        n, h, w = images.shape
        halves = images.reshape(n, h // 2, 2, w // 2, 2).astype(np.float32).mean((2, 4))
        images = np.round(halves).astype(np.uint8)
    tiled, columns = atlas(images)
    path = folder / f"{split}-sprite.png"
    tmp = folder / f".{path.name}.{os.getpid()}.png"
    Image.fromarray(tiled, mode="L").save(tmp, optimize=True)
    tmp.replace(path)
    meta = {"file": path.name, "count": len(images), "single_image_dim": list(images.shape[1:]),
            "columns": columns, "sha256": sha256(path)}  # fmt: skip
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return meta

"""The sprite atlases: every image of a dataset split in one PNG, tiled row-major (the
Embedding Projector's sprite convention), shared by all models of the dataset and kept
outside the model folders (docs/model-format.md):

    <model_dir>/_datasets/<dataset>/<split>-sprite.png
    <model_dir>/_datasets/<dataset>/<split>-sprite.json   file, count, single_image_dim, columns

The trainer writes them; the service only reads and serves them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from service.errors import SpriteNotFound

FOLDER = "_datasets"
SPLITS = ("test", "train")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # dataset names: no dots, slashes or escapes


def sprite_index(model_dir: Path, dataset: str) -> dict[str, dict[str, Any]]:
    """Each split's atlas description, with the URL the page fetches it from."""
    folder = _folder(model_dir, dataset)
    found: dict[str, dict[str, Any]] = {}
    for split in SPLITS:
        meta_path = folder / f"{split}-sprite.json"
        if not meta_path.is_file():
            continue
        meta = json.loads(meta_path.read_text())
        if not (folder / str(meta.get("file", ""))).is_file():
            continue
        keys = ("count", "single_image_dim", "columns")
        found[split] = {k: meta[k] for k in keys} | {"url": f"/sprites/{dataset}/{split}.png"}
    if not found:
        raise SpriteNotFound(
            f"no sprite atlas for dataset {dataset!r}; python -m trainer maps writes them"
        )
    return found


def atlas_splits(model_dir: Path) -> dict[str, list[str]]:
    """Dataset -> the splits it has an atlas for (the service's path examples)."""
    root = model_dir / FOLDER
    found: dict[str, list[str]] = {}
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        splits = [s for s in SPLITS if (folder / f"{s}-sprite.json").is_file()]
        if _NAME.match(folder.name) and splits:
            found[folder.name] = splits
    return found


def sprite_path(model_dir: Path, dataset: str, split: str) -> Path:
    """The atlas PNG of one split; SpriteNotFound when it is not there."""
    folder = _folder(model_dir, dataset)
    meta_path = folder / f"{split}-sprite.json"
    if split not in SPLITS or not meta_path.is_file():
        raise SpriteNotFound(f"no {split!r} sprite atlas for dataset {dataset!r}")
    path = folder / str(json.loads(meta_path.read_text())["file"])
    if path.parent != folder or not path.is_file():
        raise SpriteNotFound(f"the {split} sprite atlas of {dataset!r} is missing its PNG")
    return path


def _folder(model_dir: Path, dataset: str) -> Path:
    if not _NAME.match(dataset):
        raise SpriteNotFound(f"no dataset named {dataset!r}")
    return model_dir / FOLDER / dataset

"""Add the explorer's 2-D maps (maps.npz, maps-train.npz: UMAP and PCA 2-D) and the datasets'
sprite atlases to folders exported before the trainer wrote them, from each folder's own
model.pt; nothing else in a folder changes except the new "maps" key of its manifest:

    python -m trainer maps --model-dir models --data-root ./data [--no-download] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import torch

from trainer import evaluate as ev
from trainer.data import DatasetNotFoundError, Split, load_torchvision
from trainer.export import sha256, write_manifest
from trainer.maps import write_maps
from trainer.refresh import model_folders
from trainer.sprites import write_sprite

log = logging.getLogger(__name__)


def add_maps(folder: Path, splits: dict[str, Split], seed: int) -> dict[str, Any]:
    """Encode both splits with the folder's model.pt, write its maps and list them."""
    manifest = json.loads((folder / "manifest.json").read_text())
    if sha256(folder / "model.pt") != manifest["model_sha256"]:
        raise ValueError(f"{folder}/model.pt does not match its manifest's model_sha256")
    model = torch.jit.load(str(folder / "model.pt"), map_location="cpu").eval()
    with torch.no_grad():
        train, test = (ev.encode_all(model, splits[s]).numpy() for s in ("train", "test"))
    manifest["maps"] = write_maps(folder, train, test, seed)
    write_manifest(folder / "manifest.json", manifest)
    return manifest


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m trainer maps", description=__doc__)
    p.add_argument("--model-dir", default="models", help="model repository folder")
    p.add_argument("--only", nargs="*", default=None, help="folder names (default: all)")
    p.add_argument("--data-root", default="./data", help="torchvision dataset root")
    p.add_argument("--no-download", dest="download", action="store_false",
                   help="never download; fail if the dataset is not under --data-root")  # fmt: skip
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    root = Path(args.model_dir)
    loaded: dict[str, dict[str, Split]] = {}
    for folder in model_folders(root, args.only):
        config = json.loads((folder / "manifest.json").read_text()).get("config", {})
        dataset = config.get("dataset", "mnist")
        try:
            if dataset not in loaded:
                loaded[dataset] = {
                    s: load_torchvision(dataset, args.data_root, s == "train", args.download)
                    for s in ("train", "test")
                }
        except DatasetNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for split, data in loaded[dataset].items():
            write_sprite(root, dataset, split, data.images.numpy())
        manifest = add_maps(folder, loaded[dataset], int(config.get("seed", 0)))
        log.info("%s: maps written (UMAP %s s)", folder, manifest["maps"]["umap"]["seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

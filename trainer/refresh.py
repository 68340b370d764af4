"""What a model folder gains beyond its weights: per-label priors, embeddings of the train
split, the conditional accuracy of its samples, and a learned latent prior (prior.onnx,
trainer/flow_prior.py). The pipeline calls `label_extras` at export; `refresh` adds the
same to folders exported before, without retraining the autoencoders:

    python -m trainer refresh --model-dir models --data-root ./data [--no-download]
    python -m trainer refresh --learned-prior-only --only conv32   # just (re)fit prior.onnx
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from trainer import evaluate as ev
from trainer.data import DatasetNotFoundError, Splits, load_splits
from trainer.export import sha256, write_manifest
from trainer.flow_prior import FlowPrior, FlowPriorConfig
from trainer.learned_prior import learned_prior_entry, with_metrics
from trainer.priors import conditional_accuracy, fit_label_priors, mixture_samples

log = logging.getLogger(__name__)

TRAIN_FILE = "embeddings-train.npz"
MAX_TRAIN_LATENT_DIM = 32  # raw train latents (float16) only up to this D: ~3 MB at 60,000
CONDITIONAL_N = 1000  # samples per label for conditional_accuracy
DEFAULT_PRIOR = FlowPriorConfig()  # the learned prior refresh fits unless told otherwise


def train_split_latents(
    model: nn.Module, data: Splits
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Latents, labels and source positions of the whole train split (the optimiser's part
    plus the validation hold-out), in source order: (N, D), (N,), (N,)."""
    parts = [data.train, data.val]
    z = torch.cat([ev.encode_all(model, s) for s in parts])
    labels = torch.cat([s.labels.cpu() for s in parts])
    index = torch.cat([_index(s.index, len(s)) for s in parts])
    order = index.argsort()
    return z[order], labels[order], index[order]


def _index(index: torch.Tensor | None, n: int) -> torch.Tensor:
    if index is None:
        raise ValueError("train split without source positions; build it with data.carve")
    return index.cpu()


def save_train_embeddings(
    folder: Path, z: torch.Tensor, labels: torch.Tensor, index: torch.Tensor,
    projection: tuple[np.ndarray, np.ndarray],
) -> dict[str, Any]:  # fmt: skip
    """embeddings-train.npz (the keys of embeddings.npz, no t-SNE: it does not scale to
    60,000 points on a CPU budget; latents as float16, only up to 32-D); its manifest entry."""
    mean, axes = projection
    latents = z.numpy().astype(np.float32)
    arrays = {
        "labels": labels.numpy().astype(np.int64),
        "index": index.numpy().astype(np.int64),
        "view3d": ((latents - mean) @ axes).astype(np.float32),
    }
    has_latents = latents.shape[1] <= MAX_TRAIN_LATENT_DIM
    if has_latents:
        arrays["latents"] = latents.astype(np.float16)
    tmp = folder / f".{TRAIN_FILE}.{os.getpid()}.npz"
    np.savez_compressed(tmp, **arrays)
    tmp.replace(folder / TRAIN_FILE)
    return {
        "file": TRAIN_FILE,
        "count": len(labels),
        "has_latents": has_latents,
        "latents_dtype": "float16" if has_latents else None,
        "tsne": False,
        "sha256": sha256(folder / TRAIN_FILE),
    }


def label_extras(
    folder: Path,
    model: nn.Module,
    data: Splits,
    projection: tuple[np.ndarray, np.ndarray],
    classifier: nn.Module | None,
    seed: int,
    prior_cfg: FlowPriorConfig | None = None,
) -> dict[str, Any]:
    """Fit per-label priors on the train latents, write the train embeddings, and measure
    conditional accuracy when a classifier is given; fit the learned prior when prior_cfg
    is given. Keys: label_priors, train_split, conditional_accuracy (None without a
    classifier), train_latents (N, D), source order, learned_prior ((FlowPrior, entry
    without metrics) or None)."""
    z, labels, index = train_split_latents(model, data)
    fitted = torch.isin(index, _index(data.train.index, len(data.train)))
    priors = fit_label_priors(z[fitted], labels[fitted], data.label_names)
    accuracy = None
    if classifier is not None:
        accuracy = conditional_accuracy(model, priors, classifier, CONDITIONAL_N, seed)
    learned = None
    if prior_cfg is not None:
        n_labels = len(data.label_names)
        learned = learned_prior_entry(folder, model, z[fitted], labels[fitted], n_labels, prior_cfg)
    return {
        "label_priors": priors,
        "train_split": save_train_embeddings(folder, z, labels, index, projection),
        "conditional_accuracy": accuracy,
        "train_latents": z.numpy(),
        "learned_prior": learned,
    }


def fit_learned_prior(
    folder: Path, model: nn.Module, data: Splits, prior_cfg: FlowPriorConfig
) -> tuple[FlowPrior, dict[str, Any]]:
    """Only the learned prior, on the same train latents label_extras fits on."""
    z, labels, index = train_split_latents(model, data)
    fitted = torch.isin(index, _index(data.train.index, len(data.train)))
    n_labels = len(data.label_names)
    return learned_prior_entry(folder, model, z[fitted], labels[fitted], n_labels, prior_cfg)


def refresh_folder(
    folder: Path, splits: Splits, cache_dir: Path,
    prior_cfg: FlowPriorConfig | None = DEFAULT_PRIOR, learned_prior_only: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Add label priors, train embeddings, conditional accuracy and the learned prior
    (prior.onnx) to one model folder; model.pt and the autoencoder's ONNX files are read,
    never written. Returns the new manifest."""
    from trainer.quality import load_or_train, sample_quality

    manifest = json.loads((folder / "manifest.json").read_text())
    if sha256(folder / "model.pt") != manifest["model_sha256"]:
        raise ValueError(f"{folder}/model.pt does not match its manifest's model_sha256")
    model = torch.jit.load(str(folder / "model.pt"), map_location="cpu").eval()
    spec = manifest["embeddings"]["projection"]
    projection = (np.asarray(spec["mean"], np.float32), np.asarray(spec["axes"], np.float32))
    dataset = manifest["dataset"]["name"]
    classifier = load_or_train(splits, dataset, cache_dir, torch.device("cpu"))
    seed = int(manifest.get("config", {}).get("seed", 0))
    if learned_prior_only and prior_cfg is not None and "label_priors" in manifest:
        flow, entry = fit_learned_prior(folder, model, splits, prior_cfg)
        manifest["learned_prior"] = with_metrics(
            entry, flow, model, manifest, classifier, splits.test, seed
        )
        write_manifest(folder / "manifest.json", manifest)
        return manifest
    extras = label_extras(folder, model, splits, projection, classifier, seed, prior_cfg)
    manifest["label_priors"] = extras["label_priors"]
    manifest["embeddings"].setdefault("splits", {})["train"] = extras["train_split"]
    manifest["metrics"]["conditional_accuracy"] = extras["conditional_accuracy"]
    if manifest["prior"].get("mixture") == "label_priors":  # its /sample draws change too
        samples = mixture_samples(model, extras["label_priors"], 10_000, seed)
        manifest["metrics"]["sample_quality"] = sample_quality(classifier, samples, splits.test)
    if extras["learned_prior"] is not None:
        flow, entry = extras["learned_prior"]
        manifest["learned_prior"] = with_metrics(
            entry, flow, model, manifest, classifier, splits.test, seed
        )
    write_manifest(folder / "manifest.json", manifest)
    return manifest


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m trainer refresh", description=__doc__)
    p.add_argument("--model-dir", default="models", help="model repository folder")
    p.add_argument("--only", nargs="*", default=None, help="folder names (default: all)")
    p.add_argument("--data-root", default="./data", help="torchvision dataset root")
    p.add_argument("--no-download", dest="download", action="store_false",
                   help="never download; fail if the dataset is not under --data-root")  # fmt: skip
    p.add_argument("--cache-dir", default="runs/cache", help="evaluation classifier cache")
    p.add_argument(
        "--learned-prior-only",
        action="store_true",
        help="only (re)fit the learned prior; leave the rest of the folder as is",
    )
    p.add_argument("--prior-steps", type=int, default=FlowPriorConfig.train_steps,
                   help="optimiser steps of the learned prior; 0: fit none")  # fmt: skip
    return p.parse_args(argv)


def model_folders(root: Path, only: list[str] | None) -> list[Path]:
    """Flat model folders and numbered version folders (models/<name>/<N>/) under root."""
    found = []
    for model in sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] not in "._"):
        if only is not None and model.name not in only:
            continue
        if (model / "manifest.json").is_file():
            found.append(model)
        else:
            versions = [v for v in model.iterdir() if v.name.isdigit()]
            found += sorted((v for v in versions if (v / "manifest.json").is_file()),
                            key=lambda v: int(v.name))  # fmt: skip
    return found


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    folders = model_folders(Path(args.model_dir), args.only)
    splits: dict[tuple[str, int, int], Splits] = {}
    for folder in folders:
        config = json.loads((folder / "manifest.json").read_text()).get("config", {})
        key = (config.get("dataset", "mnist"), config.get("val_size", 5000), config.get("seed", 0))
        try:
            if key not in splits:
                splits[key] = load_splits(key[0], args.data_root, args.download, key[1], key[2])
        except DatasetNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        cfg = FlowPriorConfig(train_steps=args.prior_steps) if args.prior_steps > 0 else None
        manifest = refresh_folder(
            folder, splits[key], Path(args.cache_dir), cfg, args.learned_prior_only
        )
        acc = manifest["metrics"]["conditional_accuracy"]
        log.info("%s: conditional accuracy %.3f %s", folder, acc["mean"], acc["per_label"])
        learned = manifest.get("learned_prior", {}).get("metrics")
        if learned:
            log.info("%s: learned prior %s", folder, json.dumps(learned))
    return 0


if __name__ == "__main__":
    sys.exit(main())

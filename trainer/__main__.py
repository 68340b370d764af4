"""CLI: python -m trainer --model mlp3d|...|all [overrides]. Parse -> load -> fit -> export.
python -m trainer refresh --model-dir models ...: label priors and train embeddings for
folders exported before (trainer/refresh.py).
python -m trainer maps --model-dir models ...: the explorer's UMAP and PCA 2-D maps and the
sprite atlases for folders exported before (trainer/add_maps.py)."""

from __future__ import annotations

import argparse
import logging
import sys

from trainer.config import ZOO, config_for
from trainer.data import DatasetNotFoundError, load_splits
from trainer.pipeline import train_and_export


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m trainer", description=__doc__)
    p.add_argument(
        "--model", required=True, choices=[*ZOO, "all"], help="zoo member to train, or all of them"
    )
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist")
    p.add_argument("--data-root", default="./data", help="torchvision dataset root")
    p.add_argument(
        "--no-download",
        dest="download",
        action="store_false",
        help="never download; fail if the dataset is not under --data-root",
    )
    p.add_argument("--out", default="models", help="model repository folder")
    p.add_argument("--name", default=None, help="folder name (one model only)")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    p.add_argument("--lr", type=float, help="override the recipe's learning rate")
    p.add_argument("--schedule", choices=["constant", "cosine"], help="override lr schedule")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), or e.g. cpu, cuda:1")
    p.add_argument("--no-report", dest="report", action="store_false", help="skip pictures")
    p.add_argument(
        "--no-sample-quality",
        dest="sample_quality",
        action="store_false",
        help="skip the classifier-based sample metrics",
    )
    p.add_argument("--aoti", action="store_true", help="also write AOTInductor packages")
    args = p.parse_args(argv)
    if args.name and args.model == "all":
        p.error("--name names one model folder; it cannot be used with --model all")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["refresh"]:
        from trainer.refresh import main as refresh

        return refresh(argv[1:])
    if argv[:1] == ["maps"]:
        from trainer.add_maps import main as add_maps

        return add_maps(argv[1:])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    models = list(ZOO) if args.model == "all" else [args.model]
    overrides = {k: v for k, v in vars(args).items() if k != "model"}
    try:
        splits = load_splits(args.dataset, args.data_root, args.download, 5000, args.seed)
    except DatasetNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for model in models:
        train_and_export(config_for(model, **overrides), splits)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Seconds per epoch of mlp3d (batch 64, CPU): this trainer vs a reference-style loop.

The reference loop trains the way the reference designs do: torchvision DataLoader with a
per-item ToTensor transform, batch 64, shuffled. Both train the same network from the same
seed for the same epochs, then both are scored on the test split (MSE on [0, 1]).

    uv run python -m bench.bench_trainer --data-root ../shared/data --epochs 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from trainer.config import config_for
from trainer.data import load_splits
from trainer.evaluate import reconstruction_mse
from trainer.nets import build
from trainer.train import fit


def reference_loop(root: str, epochs: int, seed: int) -> tuple[float, torch.nn.Module]:
    """The references' loop: DataLoader + ToTensor per item. Returns seconds per epoch."""
    torch.manual_seed(seed)
    model = build("mlp3d")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train = datasets.MNIST(root, train=True, download=False, transform=transforms.ToTensor())
    loader = DataLoader(train, batch_size=64, shuffle=True)
    start = time.perf_counter()
    for _ in range(epochs):
        for x, _ in loader:
            loss = F.mse_loss(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return (time.perf_counter() - start) / epochs, model.eval()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", default="./data")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    splits = load_splits("mnist", args.data_root, False, 5000, 0)
    cfg = config_for("mlp3d", epochs=args.epochs, device="cpu", report=False)
    with tempfile.TemporaryDirectory() as tmp:
        ours = fit(cfg, splits, Path(tmp))
    ours_epoch = ours.seconds / args.epochs  # includes the per-epoch validation pass
    ref_epoch, ref_model = reference_loop(args.data_root, args.epochs, 0)
    ours_mse = reconstruction_mse(ours.model, splits.test)
    ref_mse = reconstruction_mse(ref_model, splits.test)
    print(f"mlp3d, batch 64, {args.epochs} epochs, CPU, {args.threads} threads")
    print(f"{'loop':<22}{'s/epoch':>10}{'test MSE':>12}")
    print(f"{'latentlab trainer':<22}{ours_epoch:>10.2f}{ours_mse:>12.4f}")
    print(f"{'reference DataLoader':<22}{ref_epoch:>10.2f}{ref_mse:>12.4f}")
    print(f"speed-up: {ref_epoch / ours_epoch:.1f}x")


if __name__ == "__main__":
    main()

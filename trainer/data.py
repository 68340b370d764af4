"""Datasets from torchvision, held whole as uint8 tensors on the training device."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

LABEL_NAMES: dict[str, list[str]] = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ],
}  # fmt: skip


class DatasetNotFoundError(FileNotFoundError):
    """The dataset is neither on disk nor downloadable; the message says what to pass."""


@dataclass
class Split:
    """Images as uint8 (N, 28, 28) and labels as int64 (N,), on one device."""

    images: torch.Tensor
    labels: torch.Tensor
    index: torch.Tensor | None = None  # int64 (N,): positions in the source split, if known

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def to(self, device: torch.device) -> Split:
        index = None if self.index is None else self.index.to(device)
        return Split(self.images.to(device), self.labels.to(device), index)

    def pixels(self, idx: torch.Tensor | None = None) -> torch.Tensor:
        """Float (B, 1, 28, 28) in [0, 1], scaled on the fly."""
        images = self.images if idx is None else self.images[idx]
        return images.unsqueeze(1).float().div_(255.0)


@dataclass
class Splits:
    train: Split  # what the optimiser sees
    val: Split  # carved from train, fixed by the seed: per-epoch validation loss
    test: Split  # final metrics only
    label_names: list[str]

    def to(self, device: torch.device) -> Splits:
        return Splits(
            self.train.to(device), self.val.to(device), self.test.to(device), self.label_names
        )


def carve(train: Split, test: Split, val_size: int, seed: int, label_names: list[str]) -> Splits:
    """Hold out `val_size` training images, chosen by `seed`, as the validation split."""
    if not 0 < val_size < len(train):
        raise ValueError(f"val_size must be in 1..{len(train) - 1}, got {val_size}")
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = perm[:val_size], perm[val_size:]
    return Splits(
        Split(train.images[train_idx], train.labels[train_idx], train_idx),
        Split(train.images[val_idx], train.labels[val_idx], val_idx),
        test,
        label_names,
    )


def load_torchvision(dataset: str, root: str, train: bool, download: bool) -> Split:
    """One split of MNIST or Fashion-MNIST through torchvision's own dataset classes."""
    from torchvision import datasets  # imported here: the service image has no torchvision

    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[dataset]
    where = Path(root).resolve() / cls.__name__ / "raw"
    try:
        ds = cls(root, train=train, download=download)
    except RuntimeError as exc:  # "Dataset not found", or (with download) "Error downloading"
        fix = "or check the connection and retry" if download else "or drop --no-download"
        raise DatasetNotFoundError(
            f"{cls.__name__} not found under {where}"
            + (" and downloading it failed" if download else "")
            + f"; pass --data-root DIR pointing at a folder that holds {cls.__name__}/raw, {fix}"
        ) from exc
    except OSError as exc:  # download attempted but offline or refused
        raise DatasetNotFoundError(
            f"{cls.__name__} is not under {where} and downloading it failed ({exc}); "
            f"pass --data-root DIR pointing at a folder that holds {cls.__name__}/raw"
        ) from exc
    return Split(ds.data.clone(), ds.targets.clone().long())


def load_splits(dataset: str, root: str, download: bool, val_size: int, seed: int) -> Splits:
    train = load_torchvision(dataset, root, train=True, download=download)
    test = load_torchvision(dataset, root, train=False, download=download)
    return carve(train, test, val_size, seed, LABEL_NAMES[dataset])


def batches(split: Split, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """A shuffled epoch as index tensors; the last short batch is kept."""
    perm = torch.randperm(len(split), generator=generator).to(split.images.device)
    return list(perm.split(batch_size))


def sample_splits(
    npz_path: str | Path, val_size: int = 100, test_size: int = 200, seed: int = 0
) -> Splits:
    """Splits from a small committed sample (`images` uint8 (N, 28, 28), `labels`), for tests:
    the last `test_size` images are the test split, the rest is train + validation."""
    import numpy as np

    with np.load(npz_path) as f:
        images = torch.from_numpy(f["images"].astype("uint8"))
        labels = torch.from_numpy(f["labels"].astype("int64"))
    cut = len(images) - test_size
    train, test = Split(images[:cut], labels[:cut]), Split(images[cut:], labels[cut:])
    return carve(train, test, val_size, seed, LABEL_NAMES["mnist"])

"""Every knob of a training run in one typed place, with the zoo's reference recipes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

DatasetName = Literal["mnist", "fashion-mnist"]
Schedule = Literal["constant", "cosine"]
# What /sample draws from: N(0, I); one Gaussian fitted to all train latents; or the mixture
# of the per-label Gaussians (trainer/priors.py), weighted by label frequency.
PriorKind = Literal["standard_normal", "gaussian", "label_mixture"]


@dataclass(frozen=True)
class Recipe:
    """The reference training recipe of one zoo member (the CLI defaults)."""

    epochs: int
    batch_size: int
    lr: float
    schedule: Schedule = "constant"  # cosine decays the lr to 0 over the run
    description: str = ""
    prior: PriorKind = "gaussian"  # the unconditional sampling prior written to the manifest


# The five reference designs, a VAE and the sampler. Names are CLI and model folder names.
RECIPES: dict[str, Recipe] = {
    "mlp3d": Recipe(20, 64, 1e-3, "constant", "FC 784-128-32-3, decoder 3-32-128-784, ReLU"),
    "mlp32": Recipe(20, 64, 1e-3, "constant", "FC 784-256-128-32 and mirror, ReLU"),
    # Measured: constant lr 0.00423 (reference: 0.0043); cosine decay over 20 epochs 0.0044.
    "conv32": Recipe(20, 64, 1e-3, "constant", "Conv 1-16-32 stride 2, Linear 1568-32; Tanh"),
    "convbn": Recipe(5, 64, 1e-3, "constant", "Conv-BN-ReLU-MaxPool 1-16-32; 32x7x7 latent"),
    # The reference's plain recipe reports 0.0040; a linear bottleneck plus cosine decay gets
    # under PCA-128's 0.0034 (see README, "Choices").
    "mlp128": Recipe(100, 128, 1e-3, "cosine", "FC 784-512-256-128 and mirror, linear latent"),
    "vae": Recipe(
        30,
        128,
        1e-3,
        "constant",
        "MLP VAE 784-512-256-(mu, logvar: 3) and mirror",
        "standard_normal",
    ),
    # The sampler: see README, "Choices", for why this design and how its prior is fitted.
    # Measured on MNIST (one H100, about 2 s an epoch): 30 epochs FD 21.1, 80 epochs FD 14.1
    # and the best ELBO, 160 epochs FD 12.1; the committed model is the 80-epoch run.
    "convvae": Recipe(
        80,
        128,
        1e-3,
        "cosine",
        "Conv VAE 1-32-64 stride 2, FC 256, 16-D latent, mirror; per-label Gaussian prior",
        "label_mixture",
    ),
}

ZOO: tuple[str, ...] = tuple(RECIPES)


@dataclass(frozen=True)
class TrainConfig:
    """One training run: the model, its recipe, where data comes from and where it goes."""

    model: str  # a name from ZOO
    epochs: int  # full passes over the training split
    batch_size: int  # images per optimiser step
    lr: float  # Adam learning rate
    schedule: Schedule = "constant"  # learning-rate schedule
    seed: int = 0  # seeds weights, shuffling and the validation split
    device: str = "auto"  # auto picks cuda, then mps, then cpu
    dataset: DatasetName = "mnist"  # which torchvision dataset
    data_root: str = "./data"  # torchvision dataset root
    download: bool = True  # fetch the dataset when missing
    out: str = "models"  # model repository folder
    name: str = ""  # folder name; empty means the model name (prefixed fashion- for FMNIST)
    val_size: int = 5000  # images carved from train for per-epoch validation
    report: bool = True  # write report/ pictures and animations
    sample_quality: bool = True  # classifier-based sample metrics (trains a CNN once)
    aoti: bool = False  # also AOTInductor-compile encode/decode (C++ compiler, ~1 min)
    cache_dir: str = "runs/cache"  # where the evaluation classifier is cached
    snapshots: int = 20  # at most this many epochs recorded for the animations
    # Optimiser steps of the learned latent prior (trainer/flow_prior.py); 0: none is fitted.
    prior_steps: int = 3000

    @property
    def folder_name(self) -> str:
        if self.name:
            return self.name
        return self.model if self.dataset == "mnist" else f"fashion-{self.model}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def config_for(model: str, **overrides: Any) -> TrainConfig:
    """The reference recipe of `model`, with any non-None overrides applied."""
    if model not in RECIPES:
        raise UnknownModelError(model)
    recipe = RECIPES[model]
    cfg = TrainConfig(
        model=model,
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        lr=recipe.lr,
        schedule=recipe.schedule,
    )
    return replace(cfg, **{k: v for k, v in overrides.items() if v is not None})


class UnknownModelError(ValueError):
    def __init__(self, model: str) -> None:
        super().__init__(f"unknown model {model!r}; choose one of: {', '.join(ZOO)}, or all")

"""The training loop: a few plain functions, state passed in and out."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from trainer.config import TrainConfig
from trainer.data import Split, Splits, batches
from trainer.nets import VAE, VAES, ConvVAE, build


def pick_device(requested: str) -> torch.device:
    """cuda, then mps, then cpu, unless a device is named."""
    if requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def vae_loss(model: VAE | ConvVAE, x: torch.Tensor) -> torch.Tensor:
    """Negative ELBO per image, in nats (Kingma & Welling 2014, eq. 10)."""
    mu, logvar = model.posterior(x)
    z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)  # reparameterisation trick
    recon = model.decode(z)
    # Bernoulli likelihood on [0, 1] intensities, summed over the 784 pixels.
    nll = F.binary_cross_entropy(recon, x, reduction="sum")
    # KL(q(z|x) || N(0, I)) in closed form (Appendix B).
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (nll + kl) / x.shape[0]


def loss_fn(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The training objective: MSE on [0, 1] pixels, or the negative ELBO for the VAEs."""
    if isinstance(model, VAES):
        return vae_loss(model, x)
    return F.mse_loss(model(x), x)


def train_one_epoch(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LRScheduler,
    train: Split,
    batch_size: int,
    gen: torch.Generator,
    desc: str,
) -> float:
    model.train()
    total, seen = 0.0, 0
    bar = tqdm(batches(train, batch_size, gen), desc=desc, leave=False, unit="batch")
    for idx in bar:
        x = train.pixels(idx)
        loss = loss_fn(model, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        total += loss.item() * len(idx)
        seen += len(idx)
        bar.set_postfix(loss=f"{total / seen:.4f}")
    return total / seen


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, batch_size: int = 1000) -> float:
    """Mean training objective over a split (eval mode, no gradients)."""
    model.eval()
    gen_state = torch.random.get_rng_state()  # the VAE samples; keep training RNG untouched
    total = 0.0
    for idx in torch.arange(len(split), device=split.images.device).split(batch_size):
        total += loss_fn(model, split.pixels(idx)).item() * len(idx)
    torch.random.set_rng_state(gen_state)
    return total / len(split)


@dataclass
class Snapshot:
    """What an epoch looked like, for the animations."""

    epoch: int
    latents: torch.Tensor  # (n, D) of a fixed test subset
    recon: torch.Tensor  # (10, 1, 28, 28) of one fixed digit per label


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)


@dataclass
class FitResult:
    model: nn.Module
    history: History
    device: str
    seconds: float


def snapshot_epochs(epochs: int, most: int) -> set[int]:
    """Up to `most` epochs spread evenly, always including the first and the last."""
    if epochs <= most:
        return set(range(1, epochs + 1))
    if most < 2:
        return {epochs} if most == 1 else set()
    return {round(1 + i * (epochs - 1) / (most - 1)) for i in range(most)}


def probe_indices(test: Split) -> torch.Tensor:
    """The first test image of each label present, in label order."""
    labels = test.labels.cpu()
    return torch.stack([(labels == c).nonzero()[0, 0] for c in labels.unique()])


@torch.no_grad()
def take_snapshot(model: nn.Module, test: Split, epoch: int, n: int = 1000) -> Snapshot:
    model.eval()
    sub = test.pixels(torch.arange(min(n, len(test)), device=test.images.device))
    digits = test.pixels(probe_indices(test).to(test.images.device))
    latents = model.encode(sub)  # type: ignore[operator]
    return Snapshot(epoch, latents.cpu(), model(digits).cpu())


def log_epoch(folder: Path, epoch: int, train_loss: float, val_loss: float, lr: float) -> None:
    """Append one epoch to training_log.jsonl and the plain training_log.txt."""
    record = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "lr": lr}
    with (folder / "training_log.jsonl").open("a") as f:
        f.write(json.dumps(record) + "\n")
    with (folder / "training_log.txt").open("a") as f:
        f.write(f"Epoch {epoch}, Loss: {train_loss:.4f}, Val Loss: {val_loss:.4f}\n")


def fit(cfg: TrainConfig, splits: Splits, log_dir: Path) -> FitResult:
    """Train one model from scratch on `splits` following `cfg`; logs go to `log_dir`."""
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    model = build(cfg.model).to(device)
    data = splits.to(device)
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    steps = cfg.epochs * math.ceil(len(data.train) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _schedule(cfg.schedule, steps))
    history = History()
    keep = snapshot_epochs(cfg.epochs, cfg.snapshots)
    start = time.perf_counter()
    epochs = tqdm(range(1, cfg.epochs + 1), desc=cfg.folder_name, unit="epoch")
    for epoch in epochs:
        desc = f"epoch {epoch}/{cfg.epochs}"
        train_loss = train_one_epoch(model, opt, sched, data.train, cfg.batch_size, gen, desc)
        val_loss = evaluate(model, data.val)
        history.train_loss.append(train_loss)
        history.val_loss.append(val_loss)
        log_epoch(log_dir, epoch, train_loss, val_loss, opt.param_groups[0]["lr"])
        epochs.set_postfix(train=f"{train_loss:.4f}", val=f"{val_loss:.4f}")
        if epoch in keep:
            history.snapshots.append(take_snapshot(model, data.test, epoch))
    model.eval()
    return FitResult(model, history, str(device), time.perf_counter() - start)


def _schedule(kind: str, steps: int) -> Callable[[int], float]:
    if kind == "cosine":
        return lambda step: 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))
    return lambda step: 1.0

"""A learned latent prior: a small conditional flow-matching MLP fitted to a model's train
latents, so /sample draws from where the data's latents are rather than from one Gaussian
(most of whose mass lies between the clusters).

Flow matching with the straight (rectified / conditional-OT) path (Lipman et al. 2023,
"Flow Matching for Generative Modeling"; Liu et al. 2023, "Flow Straight and Fast"):
x_t = (1 - t) x0 + t x1 with x0 ~ N(0, I) and x1 a normalised latent, and the net regresses
the velocity x1 - x0. Labels are dropped (replaced by a null label) with probability
`label_dropout`, so one net gives the unconditional and every conditional velocity, and
classifier-free guidance (Ho & Salimans 2022) mixes them at sampling time:
v = v(x, t, null) + w (v(x, t, y) - v(x, t, null)).

The net is exported to `prior.onnx` (inputs x (B, D), t (B, 1), label (B,) int64; output
velocity (B, D)); the sampler is a fixed-step midpoint ODE solver, written here in torch and
in the service in NumPy over ONNX Runtime (the same arithmetic: the same noise gives the
same latents up to float32 rounding). docs/model-format.md has the manifest entry.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

FILE = "prior.onnx"
OPSET = 18


@dataclass(frozen=True)
class FlowPriorConfig:
    hidden: int = 256  # width of the velocity MLP
    blocks: int = 3  # residual blocks of the MLP
    train_steps: int = 3000  # optimiser steps (batches), whatever the train split's size
    batch_size: int = 256
    lr: float = 2e-3  # AdamW, cosine-decayed to 0 over train_steps
    weight_decay: float = 1e-4
    label_dropout: float = 0.15  # share of batches' labels replaced by the null label
    ema: float = 0.999  # exponential moving average of the weights: the exported net
    steps: int = 8  # default midpoint steps at sampling time (2 net calls each)
    guidance: float = 2.0  # default classifier-free guidance scale for labelled samples
    seed: int = 0


class TimeEmbedding(nn.Module):
    """t (B, 1) in [0, 1] -> (B, hidden): sinusoids at geometric frequencies, then a Linear."""

    def __init__(self, hidden: int, freqs: int = 16) -> None:
        super().__init__()
        self.register_buffer("freqs", torch.exp(torch.linspace(0, math.log(1000.0), freqs)))
        self.proj = nn.Linear(2 * freqs, hidden)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        angles = t * self.get_buffer("freqs")  # (B, F)
        return self.proj(torch.cat([angles.sin(), angles.cos()], dim=1))


class Block(nn.Module):
    """Pre-norm residual MLP block: x + Linear(SiLU(Linear(LayerNorm(x))))."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(hidden), nn.Linear(hidden, 2 * hidden), nn.SiLU(),
            nn.Linear(2 * hidden, hidden),
        )  # fmt: skip

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.net(h)


class VelocityNet(nn.Module):
    """(x (B, D), t (B, 1), label (B,) in 0..L, L = null) -> velocity (B, D)."""

    def __init__(self, dim: int, n_labels: int, hidden: int, blocks: int) -> None:
        super().__init__()
        self.dim, self.n_labels = dim, n_labels
        self.inp = nn.Linear(dim, hidden)
        self.time = TimeEmbedding(hidden)
        self.label = nn.Embedding(n_labels + 1, hidden)  # the last row is "no label"
        self.blocks = nn.Sequential(*[Block(hidden) for _ in range(blocks)])
        self.out = nn.Sequential(nn.LayerNorm(hidden), nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, t: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        h = self.inp(x) + self.time(t) + self.label(label)
        return self.out(self.blocks(h))


@dataclass
class FlowPrior:
    """A fitted prior: the EMA velocity net and the normalisation of its latents."""

    net: VelocityNet
    mean: torch.Tensor  # (D,) the train latents' per-dimension mean
    std: torch.Tensor  # (D,) ... and standard deviation (floored)
    config: FlowPriorConfig
    train_seconds: float

    @property
    def null_label(self) -> int:
        return self.net.n_labels


def fit_flow_prior(
    z: torch.Tensor, labels: torch.Tensor, n_labels: int, cfg: FlowPriorConfig
) -> FlowPrior:
    """Fit the velocity net on (N, D) latents and their (N,) labels (CPU, float32)."""
    start = time.perf_counter()
    threads = torch.get_num_threads()
    # One thread: for a net this small, a second OpenMP thread on a shared 2-core machine
    # made each step 5x slower (spinning), not faster.
    torch.set_num_threads(1)
    try:
        return _fit(z, labels, n_labels, cfg, start)
    finally:
        torch.set_num_threads(threads)


def _fit(
    z: torch.Tensor, labels: torch.Tensor, n_labels: int, cfg: FlowPriorConfig, start: float
) -> FlowPrior:
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    z, labels = z.float().cpu(), labels.long().cpu()
    mean, std = z.mean(0), z.std(0).clamp_min(1e-3 * float(z.std(0).max()))
    x1_all = (z - mean) / std
    net = VelocityNet(z.shape[1], n_labels, cfg.hidden, cfg.blocks)
    ema = VelocityNet(z.shape[1], n_labels, cfg.hidden, cfg.blocks).requires_grad_(False)
    ema.load_state_dict(net.state_dict())
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=cfg.train_steps, pct_start=0.05
    )
    for step in range(cfg.train_steps):
        idx = torch.randint(len(z), (cfg.batch_size,), generator=gen)
        loss = _loss(net, x1_all[idx], labels[idx], n_labels, cfg.label_dropout, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        _ema_update(ema, net, min(cfg.ema, (1 + step) / (10 + step)))
    return FlowPrior(ema.eval(), mean, std, cfg, time.perf_counter() - start)


@torch.no_grad()
def _ema_update(ema: nn.Module, net: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * net; the decay warms up so that short runs are
    not an average dominated by the untrained initial weights."""
    for e, p in zip(ema.parameters(), net.parameters(), strict=True):
        e.lerp_(p, 1.0 - decay)


def _loss(
    net: VelocityNet, x1: torch.Tensor, y: torch.Tensor, n_labels: int, dropout: float,
    gen: torch.Generator,
) -> torch.Tensor:  # fmt: skip
    """Conditional flow-matching loss: ||v(x_t, t, y) - (x1 - x0)||^2 on the straight path."""
    b = len(x1)
    x0 = torch.randn(x1.shape, generator=gen)
    # Logit-normal times (Esser et al. 2024, SD3) weight the middle of the path, where the
    # velocity is hardest to predict; the few-step sampler spends its calls there too.
    t = torch.sigmoid(torch.randn(b, 1, generator=gen))
    drop = torch.rand(b, generator=gen) < dropout
    y = torch.where(drop, torch.full_like(y, n_labels), y)
    xt = (1 - t) * x0 + t * x1
    return F.mse_loss(net(xt, t, y), x1 - x0)


@torch.no_grad()
def sample(
    prior: FlowPrior, noise: torch.Tensor, labels: torch.Tensor | None, steps: int,
    guidance: float,
) -> torch.Tensor:  # fmt: skip
    """Integrate the flow from noise (N, D) with `steps` midpoint steps; labels (N,) or None
    (unconditional). Returns latents in the model's space (N, D)."""
    n = len(noise)
    null = torch.full((n,), prior.null_label, dtype=torch.long)

    def velocity(x: torch.Tensor, t: float) -> torch.Tensor:
        tt = torch.full((n, 1), t)
        if labels is None:
            return prior.net(x, tt, null)
        both = prior.net(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([labels, null]))
        cond, uncond = both[:n], both[n:]
        return uncond + guidance * (cond - uncond)

    x, h = noise.float(), 1.0 / steps
    for i in range(steps):
        t = i * h
        mid = x + 0.5 * h * velocity(x, t)
        x = x + h * velocity(mid, t + 0.5 * h)
    return x * prior.std + prior.mean


def draw(
    prior: FlowPrior, n: int, seed: int, labels: torch.Tensor | None = None,
    steps: int | None = None, guidance: float | None = None,
) -> torch.Tensor:  # fmt: skip
    """n latents from a seeded generator (unconditional, or one per entry of labels)."""
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, prior.net.dim, generator=gen)
    steps = prior.config.steps if steps is None else steps
    guidance = prior.config.guidance if guidance is None else guidance
    out = [
        sample(prior, c, None if labels is None else labels[i : i + len(c)], steps, guidance)
        for i, c in zip(range(0, n, 2000), noise.split(2000), strict=True)
    ]
    return torch.cat(out)


def export_onnx(prior: FlowPrior, folder: Path) -> dict[str, Any]:
    """Write prior.onnx, check it against eager at batch 1 and 7; its manifest fields."""
    path = folder / FILE
    net = prior.net.eval().requires_grad_(False)
    probe = (torch.randn(2, net.dim), torch.rand(2, 1), torch.tensor([0, net.n_labels]))
    names = ["x", "t", "label"]
    with warnings.catch_warnings():  # the TorchScript-based exporter announces its age
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net, probe, str(path), dynamo=False, opset_version=OPSET, input_names=names,
            output_names=["velocity"], dynamic_axes={k: {0: "batch"} for k in [*names, "velocity"]},
        )  # fmt: skip
    _check(path, net)
    return {"file": FILE, "opset": OPSET, "inputs": names, "output": "velocity"}


def _check(path: Path, net: VelocityNet) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(1)
    for b in (1, 7):
        x, t = torch.randn(b, net.dim, generator=gen), torch.rand(b, 1, generator=gen)
        y = torch.randint(net.n_labels + 1, (b,), generator=gen)
        want = net(x, t, y).numpy()
        got = session.run(None, {"x": x.numpy(), "t": t.numpy(), "label": y.numpy()})[0]
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-4):
            raise RuntimeError(f"ONNX prior differs from eager for {path}")


def manifest_entry(prior: FlowPrior, onnx: dict[str, Any], sha: str) -> dict[str, Any]:
    """The manifest's `learned_prior` (metrics are added by the caller)."""
    cfg = prior.config
    return {
        "kind": "flow_matching",
        **onnx,
        "sha256": sha,
        "dim": prior.net.dim,
        "null_label": prior.null_label,
        "solver": "midpoint",
        "steps": cfg.steps,
        "guidance": cfg.guidance,
        "mean": [float(f"{v:.7g}") for v in prior.mean.tolist()],
        "std": [float(f"{v:.7g}") for v in prior.std.tolist()],
        "config": asdict(cfg),
        "train_seconds": round(prior.train_seconds, 1),
    }

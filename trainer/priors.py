"""Per-label priors: one Gaussian per label fitted to that label's train latents, for
conditional sampling ("draw me a 7"), and their measured accuracy under the project's
classifier (trainer/quality.py). The manifest entry is documented in docs/model-format.md."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

MAX_FULL_COVARIANCE_DIM = 256  # wider latents (convbn: 1568) get a diagonal Gaussian
RIDGE = 1e-6  # added to covariance diagonals so the Cholesky factor always exists


def fit_label_priors(
    z: torch.Tensor, labels: torch.Tensor, label_names: list[str]
) -> dict[str, Any]:
    """The manifest's `label_priors`: per label, mean and Cholesky factor of its latents'
    covariance (diagonal beyond 256-D), and its share of the train split as mixture weight."""
    z, labels = z.double().cpu(), labels.cpu()
    full = z.shape[1] <= MAX_FULL_COVARIANCE_DIM
    entries = []
    for label, name in enumerate(label_names):
        members = z[labels == label]
        if len(members) < 2:
            raise ValueError(f"label {name!r} has {len(members)} train latents; need 2 or more")
        tril = None
        if full:
            cov = torch.cov(members.T) + RIDGE * torch.eye(z.shape[1], dtype=z.dtype)
            tril = _short(torch.linalg.cholesky(cov))
        entries.append({
            "name": name,
            "count": len(members),
            "weight": round(len(members) / len(z), 7),
            "mean": _short(members.mean(0)),
            "std": _short(members.std(0)),
            "scale_tril": tril,
        })  # fmt: skip
    return {"kind": "gaussian", "split": "train", "count": len(z), "labels": entries}


def _short(t: torch.Tensor) -> list[Any]:
    """As nested lists of floats with 7 significant digits (float32's precision): the
    manifest stays readable and about half the size of full float64 reprs."""
    return np.vectorize(lambda v: float(f"{v:.7g}"), otypes=[float])(t.numpy()).tolist()


def sample_labels(priors: dict[str, Any], labels: torch.Tensor, seed: int) -> torch.Tensor:
    """One latent per entry of `labels` (N,), each drawn from its label's Gaussian: (N, D)."""
    gen = torch.Generator().manual_seed(seed)
    entries = priors["labels"]
    dim = len(entries[0]["mean"])
    eps = torch.randn(len(labels), dim, generator=gen, dtype=torch.float64)
    z = torch.empty(len(labels), dim, dtype=torch.float64)
    for label, entry in enumerate(entries):
        rows = (labels == label).nonzero().flatten()
        if len(rows) == 0:
            continue
        mean = torch.tensor(entry["mean"], dtype=torch.float64)
        if entry["scale_tril"] is not None:
            tril = torch.tensor(entry["scale_tril"], dtype=torch.float64)
            z[rows] = mean + eps[rows] @ tril.T
        else:
            z[rows] = mean + eps[rows] * torch.tensor(entry["std"], dtype=torch.float64)
    return z.float()


def mixture_labels(priors: dict[str, Any], n: int, seed: int) -> torch.Tensor:
    """n labels drawn with the priors' weights (the unconditional mixture's first step)."""
    weights = torch.tensor([e["weight"] for e in priors["labels"]], dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    return torch.multinomial(weights, n, replacement=True, generator=gen)


@torch.no_grad()
def decode_latents(model: nn.Module, z: torch.Tensor, chunk: int = 1000) -> torch.Tensor:
    """(N, D) -> (N, 1, 28, 28), in chunks, clipped to [0, 1] as the service clips."""
    decode = model.decode  # eager module or TorchScript: both speak decode
    return torch.cat([decode(c).clamp(0, 1) for c in z.split(chunk)])  # type: ignore[operator]


@torch.no_grad()
def conditional_accuracy(
    model: nn.Module, priors: dict[str, Any], classifier: nn.Module, n_per_label: int, seed: int
) -> dict[str, Any]:
    """Share of each label's conditional samples that the classifier calls that label."""
    names = [e["name"] for e in priors["labels"]]
    labels = torch.arange(len(names)).repeat_interleave(n_per_label)
    images = decode_latents(model, sample_labels(priors, labels, seed))
    predicted = torch.cat([classifier(x).argmax(1) for x in images.split(1000)])
    hits = (predicted == labels).float().view(len(names), n_per_label).mean(1)
    confidence = torch.cat([F.softmax(classifier(x), 1).max(1).values for x in images.split(1000)])
    return {
        "n_per_label": n_per_label,
        "mean": round(float(hits.mean()), 4),
        "per_label": {name: round(float(h), 4) for name, h in zip(names, hits, strict=True)},
        "share_confident": round(float((confidence > 0.9).float().mean()), 4),
    }


def mixture_samples(model: nn.Module, priors: dict[str, Any], n: int, seed: int) -> torch.Tensor:
    """n decoded draws from the label mixture: a label by weight, then its Gaussian."""
    labels = mixture_labels(priors, n, seed)
    return decode_latents(model, sample_labels(priors, labels, seed + 1))

"""Fit a model folder's learned prior (trainer/flow_prior.py), write prior.onnx, and measure
it beside its baselines with the project's classifier (trainer/quality.py): the Gaussian
prior, the per-label Gaussian mixture, and the reconstructions of the test split (the
floor no prior can beat). The result is the manifest's `learned_prior` entry."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from trainer.data import Split
from trainer.export import sha256
from trainer.flow_prior import FILE, FlowPrior, FlowPriorConfig, draw, export_onnx, fit_flow_prior
from trainer.flow_prior import manifest_entry as flow_entry
from trainer.priors import decode_latents, mixture_samples
from trainer.quality import DigitClassifier

log = logging.getLogger(__name__)

QUALITY_N = 10_000  # unconditional samples per Frechet distance, as metrics.sample_quality
CONDITIONAL_N = 1000  # samples per label for the conditional accuracy


def learned_prior_entry(
    folder: Path, model: nn.Module, z: torch.Tensor, labels: torch.Tensor, n_labels: int,
    cfg: FlowPriorConfig,
) -> tuple[FlowPrior, dict[str, Any]]:  # fmt: skip
    """Fit on (N, D) train latents, write and check prior.onnx; the entry without metrics."""
    prior = fit_flow_prior(z, labels, n_labels, cfg)
    log.info("%s: flow prior fitted in %.1f s", folder.name, prior.train_seconds)
    onnx = export_onnx(prior, folder)
    return prior, flow_entry(prior, onnx, sha256(folder / FILE))


@torch.no_grad()
def measure(
    prior: FlowPrior, model: nn.Module, manifest: dict[str, Any], label_priors: dict[str, Any],
    classifier: DigitClassifier, test: Split, seed: int,
) -> dict[str, Any]:  # fmt: skip
    """The learned prior's figures and its baselines', all with the same classifier."""
    from trainer.quality import sample_quality  # scipy: only where figures are wanted

    start = time.perf_counter()
    learned = decode_latents(model, draw(prior, QUALITY_N, seed))
    n_labels = len(label_priors["labels"])
    wanted = torch.arange(n_labels).repeat_interleave(CONDITIONAL_N)
    conditional = decode_latents(model, draw(prior, len(wanted), seed + 1, wanted))
    gaussian = decode_latents(model, gaussian_latents(manifest["prior"], QUALITY_N, seed))
    gmm = mixture_samples(model, label_priors, QUALITY_N, seed)
    real = test.to(torch.device("cpu"))
    recon = decode_latents(model, torch.cat([model.encode(x) for x in real.pixels().split(1000)]))  # type: ignore[operator]
    figures: dict[str, Any] = {
        "sample_quality": sample_quality(classifier, learned, test),
        "conditional_accuracy": label_accuracy(classifier, conditional, wanted, label_priors),
        "baselines": {
            "gaussian": sample_quality(classifier, gaussian, test),
            "label_gmm": sample_quality(classifier, gmm, test),
            "reconstruction": sample_quality(classifier, recon, test),
        },
    }
    figures["eval_seconds"] = round(time.perf_counter() - start, 1)
    return figures


def with_metrics(
    entry: dict[str, Any], prior: FlowPrior, model: nn.Module, manifest: dict[str, Any],
    classifier: DigitClassifier | None, test: Split, seed: int,
) -> dict[str, Any]:  # fmt: skip
    """The entry with its measured figures (none without a classifier) and `preferred`."""
    if classifier is not None:
        label_priors = manifest["label_priors"]
        entry["metrics"] = measure(prior, model, manifest, label_priors, classifier, test, seed)
    entry["preferred"] = preferred(entry, manifest)
    return entry


def gaussian_latents(spec: dict[str, Any], n: int, seed: int) -> torch.Tensor:
    """n draws from the manifest's one Gaussian (mean + eps @ scale_tril.T, or std * eps)."""
    gen = torch.Generator().manual_seed(seed)
    mean = torch.tensor(spec["mean"], dtype=torch.float64)
    eps = torch.randn(n, len(mean), generator=gen, dtype=torch.float64)
    if spec.get("scale_tril") is not None:
        z = mean + eps @ torch.tensor(spec["scale_tril"], dtype=torch.float64).T
    else:
        z = mean + eps * torch.tensor(spec["std"], dtype=torch.float64)
    return z.float()


@torch.no_grad()
def label_accuracy(
    classifier: nn.Module, images: torch.Tensor, wanted: torch.Tensor, label_priors: dict[str, Any]
) -> dict[str, Any]:
    """Share of each label's samples that the classifier calls that label (as priors.py)."""
    names = [e["name"] for e in label_priors["labels"]]
    logits = torch.cat([classifier(x) for x in images.split(1000)])
    hits = (logits.argmax(1) == wanted).float().view(len(names), -1).mean(1)
    confidence = F.softmax(logits, 1).max(1).values
    return {
        "n_per_label": len(wanted) // len(names),
        "mean": round(float(hits.mean()), 4),
        "per_label": {name: round(float(h), 4) for name, h in zip(names, hits, strict=True)},
        "share_confident": round(float((confidence > 0.9).float().mean()), 4),
    }


def preferred(entry: dict[str, Any], manifest: dict[str, Any]) -> bool:
    """Serve the learned prior by default only where it measured better than what /sample
    drew before (the manifest's own sample_quality) or where nothing was measured."""
    ours = entry.get("metrics", {}).get("sample_quality")
    before = (manifest.get("metrics") or {}).get("sample_quality")
    if ours is None:
        return False
    if before is None:
        return True
    return bool(ours["frechet_distance"] < before["frechet_distance"])

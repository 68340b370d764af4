"""Sample quality: a small CNN digit classifier, trained once per dataset and cached, judges
decoded prior samples by its confidence and by a Frechet distance between its penultimate
features of samples and of the test set (FID's recipe with a domain-specific network)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import linalg
from torch import nn
from tqdm import tqdm

from trainer.data import Split, Splits, batches

log = logging.getLogger(__name__)


class DigitClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 14, 14)
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 64, 7, 7)
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),  # (B, 128): the FD features
        )  # fmt: skip
        self.head = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def train_classifier(splits: Splits, device: torch.device, epochs: int = 3) -> DigitClassifier:
    torch.manual_seed(0)
    net = DigitClassifier().to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    train = splits.train.to(device)
    for epoch in range(epochs):
        net.train()
        for idx in tqdm(
            batches(train, 128, gen), desc=f"classifier {epoch + 1}/{epochs}", leave=False
        ):
            loss = F.cross_entropy(net(train.pixels(idx)), train.labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return net.eval()


@torch.no_grad()
def accuracy(net: DigitClassifier, split: Split) -> float:
    logits = torch.cat([net(split.pixels(i)) for i in torch.arange(len(split)).split(1000)])
    return float((logits.argmax(1).cpu() == split.labels.cpu()).float().mean())


def load_or_train(
    splits: Splits, dataset: str, cache_dir: Path, device: torch.device
) -> DigitClassifier:
    """The cached classifier for `dataset`, training (about a minute on CPU) on first use."""
    path = cache_dir / f"classifier-{dataset}.pt"
    net = DigitClassifier()
    if path.exists():
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return net.eval()
    net = train_classifier(splits, device).cpu()
    log.info(
        "evaluation classifier for %s: test accuracy %.4f",
        dataset,
        accuracy(net, splits.test.to(torch.device("cpu"))),
    )
    cache_dir.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    return net


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) (Heusel et al. 2017, eq. 6)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    # A small ridge keeps sqrtm well-posed when dead ReLU features make a covariance singular.
    ridge = 1e-6 * np.eye(a.shape[1])
    s_a, s_b = np.cov(a, rowvar=False) + ridge, np.cov(b, rowvar=False) + ridge
    covmean = linalg.sqrtm(s_a @ s_b)
    covmean = covmean.real if np.iscomplexobj(covmean) else covmean
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * covmean))


@torch.no_grad()
def sample_quality(net: DigitClassifier, samples: torch.Tensor, test: Split) -> dict[str, float]:
    """Confidence and Frechet distance of (N, 1, 28, 28) samples against the test split."""
    feats_s = torch.cat([net.features(x) for x in samples.cpu().split(1000)])
    probs = F.softmax(net.head(feats_s), dim=1).max(1).values
    real = test.to(torch.device("cpu"))
    feats_r = torch.cat([net.features(real.pixels(i)) for i in torch.arange(len(real)).split(1000)])
    return {
        "n": len(samples),
        "mean_confidence": float(probs.mean()),
        "share_confident": float((probs > 0.9).float().mean()),
        "frechet_distance": frechet_distance(feats_s.double().numpy(), feats_r.double().numpy()),
    }

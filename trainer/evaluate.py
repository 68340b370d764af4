"""Final metrics on the test split: reconstruction, latent structure, PCA baseline."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trainer.data import Split
from trainer.nets import VAE, ConvVAE


@torch.no_grad()
def encode_all(model: nn.Module, split: Split, batch_size: int = 1000) -> torch.Tensor:
    """(N, D) latents of a whole split, on the CPU."""
    model.eval()
    idx = torch.arange(len(split), device=split.images.device)
    return torch.cat([model.encode(split.pixels(i)).cpu() for i in idx.split(batch_size)])  # type: ignore[operator]


@torch.no_grad()
def reconstruction_mse(model: nn.Module, split: Split, batch_size: int = 1000) -> float:
    """Mean squared error per pixel on [0, 1], whatever the model's own scale."""
    model.eval()
    total = 0.0
    for i in torch.arange(len(split), device=split.images.device).split(batch_size):
        x = split.pixels(i)
        total += F.mse_loss(model(x), x, reduction="sum").item()
    return total / (len(split) * 784)


def psnr(mse: float) -> float:
    """Peak signal-to-noise ratio in dB for pixels in [0, 1]."""
    return 10.0 * math.log10(1.0 / mse)


@torch.no_grad()
def test_elbo(model: VAE | ConvVAE, split: Split, samples: int = 1, seed: int = 0) -> float:
    """Mean ELBO per test image in nats (higher is better), one posterior sample each."""
    from trainer.train import vae_loss

    torch.manual_seed(seed)
    model.eval()
    total = 0.0
    for i in torch.arange(len(split), device=split.images.device).split(1000):
        total -= vae_loss(model, split.pixels(i)).item() * len(i) * samples
    return total / (len(split) * samples)


def knn_accuracy(
    train_z: torch.Tensor,
    train_y: torch.Tensor,
    test_z: torch.Tensor,
    test_y: torch.Tensor,
    k: int = 5,
    chunk: int = 500,
) -> float:
    """k-nearest-neighbour accuracy (Euclidean, majority vote), fit on train, scored on test."""
    correct = 0
    train_y = train_y.cpu()
    for z, y in zip(test_z.split(chunk), test_y.cpu().split(chunk), strict=True):
        nearest = torch.cdist(z, train_z).topk(k, largest=False).indices  # (chunk, k)
        votes = F.one_hot(train_y[nearest], num_classes=int(train_y.max()) + 1).sum(1)
        correct += int((votes.argmax(1) == y).sum())
    return correct / len(test_z)


def silhouette(z: torch.Tensor, y: torch.Tensor, n: int = 5000, seed: int = 0) -> float | None:
    """Silhouette of latents grouped by label, on a fixed random subset of up to n points."""
    from sklearn.metrics import silhouette_score

    if len(torch.unique(y)) < 2:
        return None
    return float(
        silhouette_score(z.numpy(), y.cpu().numpy(), sample_size=min(n, len(z)), random_state=seed)
    )


def pca_basis(train: Split, dims: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (784,) and top-`dims` principal axes (784, dims) of the train pixels."""
    x = train.pixels().flatten(1).double().cpu()
    mean = x.mean(0)
    cov = (x - mean).T @ (x - mean) / (len(x) - 1)
    _, vecs = torch.linalg.eigh(cov)  # ascending eigenvalues
    return mean, vecs[:, -dims:]


def pca_mse(train: Split, test: Split, dims: int) -> float | None:
    """Test MSE of PCA with `dims` components, clipped to [0, 1]; None when it is lossless."""
    if dims >= 784:
        return None
    mean, axes = pca_basis(train, dims)
    x = test.pixels().flatten(1).double().cpu()
    recon = ((x - mean) @ axes @ axes.T + mean).clamp(0, 1)
    return float(F.mse_loss(recon, x))


def pca_project(z: np.ndarray, dims: int = 3) -> np.ndarray:
    """Project latents onto their own top principal components (for 3-D views)."""
    if z.shape[1] <= dims:
        return z.astype(np.float32)
    centred = z - z.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return (centred @ vt[:dims].T).astype(np.float32)


def tsne_2d(z: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D t-SNE of latents (PCA to 50 first when wider, as is customary)."""
    from sklearn.manifold import TSNE

    x = pca_project(z, 50) if z.shape[1] > 50 else z
    perplexity = min(30.0, (len(x) - 1) / 3)
    return (
        TSNE(2, perplexity=perplexity, init="pca", random_state=seed)
        .fit_transform(x)
        .astype(np.float32)
    )

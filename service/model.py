"""One served model: the TorchScript module and what the manifest says about it.
NumPy at the edges, tensors inside, always under torch.inference_mode()."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from service.embeddings import EmbeddingTable
from service.manifest import Manifest, PriorSpec

Array = np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True)
class Prior:
    """z = mean + scale_tril @ eps, or mean + std * eps when there is no scale_tril."""

    mean: torch.Tensor  # (D,)
    std: torch.Tensor  # (D,)
    scale_tril: torch.Tensor | None  # (D, D) lower-triangular, or None (diagonal)

    @classmethod
    def from_spec(cls, spec: PriorSpec) -> Prior:
        tril = spec.scale_tril
        return cls(
            torch.tensor(spec.mean, dtype=torch.float32),
            torch.tensor(spec.std, dtype=torch.float32),
            None if tril is None else torch.tensor(tril, dtype=torch.float32),
        )

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        eps = torch.randn(n, self.mean.shape[0], generator=generator)  # (n, D)
        if self.scale_tril is None:
            return self.mean + self.std * eps
        return self.mean + eps @ self.scale_tril.T  # row-wise scale_tril @ eps


@dataclass(frozen=True)
class Projection:
    """The affine map from a latent to the 3-D view of the embeddings plot."""

    weight: Array  # (D, 3)
    bias: Array  # (3,)

    def __call__(self, z: Array) -> Array:
        out: Array = (z @ self.weight + self.bias).astype(np.float32)
        return out


@dataclass(frozen=True)
class ServedModel:
    name: str  # folder name = API name
    manifest: Manifest = field(repr=False)
    manifest_json: dict[str, Any] = field(repr=False)  # as the trainer wrote it
    module: torch.jit.ScriptModule = field(repr=False)
    prior: Prior = field(repr=False)
    embeddings: EmbeddingTable = field(repr=False)
    projection: Projection = field(repr=False)

    @property
    def latent_dim(self) -> int:
        return self.manifest.latent_dim

    def encode(self, images: Array) -> Array:
        """(N, 28, 28) in [0, 1] -> (N, D)."""
        with torch.inference_mode():
            z = self.module.encode(torch.from_numpy(images).unsqueeze(1))
            return np.ascontiguousarray(z.numpy(), dtype=np.float32)

    def decode(self, latents: Array) -> Array:
        """(N, D) -> (N, 28, 28) in [0, 1]."""
        with torch.inference_mode():
            return _pixels(self.module.decode(torch.from_numpy(latents)))

    def reconstruct(self, images: Array) -> tuple[Array, Array]:
        """(N, 28, 28) -> latents (N, D) and reconstructions (N, 28, 28)."""
        z = self.encode(images)
        return z, self.decode(z)

    def sample(self, n: int, seed: int) -> tuple[Array, Array]:
        """n prior draws, reproducible from `seed` alone: latents (n, D), images (n, 28, 28)."""
        generator = torch.Generator().manual_seed(seed)
        with torch.inference_mode():
            z = self.prior.sample(n, generator)
            return z.numpy().copy(), _pixels(self.module.decode(z))

    def view3d(self, latents: Array) -> Array:
        return self.projection(latents)


def _pixels(decoded: torch.Tensor) -> Array:
    """(N, 1, 28, 28) model output -> finite float32 (N, 28, 28) in [0, 1]."""
    x = torch.nan_to_num(decoded.float(), nan=0.0).clamp_(0.0, 1.0)
    return np.ascontiguousarray(x.squeeze(1).numpy(), dtype=np.float32)

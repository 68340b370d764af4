"""One served model: its runtime (ONNX Runtime or TorchScript) and what the manifest says
about it. NumPy in and out; the runtime decides what runs inside."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from service.engine.runtime import Runtime
from service.repository.embeddings import EmbeddingTable
from service.repository.learned_prior import LearnedPrior
from service.repository.manifest import Manifest, PriorSpec
from service.repository.priors import LabelPriors

Array = np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True)
class Prior:
    """z = mean + eps @ scale_tril.T, or mean + std * eps when there is no scale_tril."""

    mean: Array  # (D,)
    std: Array  # (D,)
    scale_tril: Array | None  # (D, D) lower-triangular, or None (diagonal)

    @classmethod
    def from_spec(cls, spec: PriorSpec) -> Prior:
        tril = spec.scale_tril
        return cls(
            np.asarray(spec.mean, np.float32),
            np.asarray(spec.std, np.float32),
            None if tril is None else np.asarray(tril, np.float32),
        )

    def sample(self, n: int, rng: np.random.Generator) -> Array:
        eps = rng.standard_normal((n, self.mean.shape[0]), dtype=np.float32)  # (n, D)
        if self.scale_tril is None:
            z: Array = self.mean + self.std * eps
        else:
            z = self.mean + eps @ self.scale_tril.T  # row-wise scale_tril @ eps
        return z.astype(np.float32)


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
    version: int  # the numbered folder it came from; 1 for a flat (unversioned) folder
    manifest: Manifest = field(repr=False)
    manifest_json: dict[str, Any] = field(repr=False)  # as the trainer wrote it
    runtime: Runtime = field(repr=False)
    prior: Prior = field(repr=False)
    embeddings: EmbeddingTable = field(repr=False)
    projection: Projection = field(repr=False)
    label_priors: LabelPriors | None = field(init=False, repr=False)  # from the manifest
    learned_prior: LearnedPrior | None = field(default=None, repr=False)  # prior.onnx

    def __post_init__(self) -> None:
        object.__setattr__(self, "label_priors", LabelPriors.from_manifest(self.manifest))

    @property
    def latent_dim(self) -> int:
        return self.manifest.latent_dim

    def encode(self, images: Array) -> Array:
        """(N, 28, 28) in [0, 1] -> (N, D)."""
        z = self.runtime.encode(np.ascontiguousarray(images[:, None], dtype=np.float32))
        return np.ascontiguousarray(z, dtype=np.float32)

    def decode(self, latents: Array) -> Array:
        """(N, D) -> (N, 28, 28) in [0, 1]."""
        return _pixels(self.runtime.decode(np.ascontiguousarray(latents, dtype=np.float32)))

    def prior_latents(self, n: int, seed: int) -> Array:
        """n draws from the prior, reproducible from `seed` alone: (n, D)."""
        rng = np.random.default_rng(seed)
        if self.manifest.prior.mixture == "label_priors" and self.label_priors is not None:
            return self.label_priors.mixture(n, rng)
        return self.prior.sample(n, rng)

    def label_latents(self, labels: np.ndarray[Any, Any], seed: int) -> Array:
        """One draw per label index from that label's prior, reproducible from `seed`."""
        assert self.label_priors is not None  # the caller checked
        return self.label_priors.sample(labels, np.random.default_rng(seed))

    def learned_latents(
        self, n: int, seed: int, labels: np.ndarray[Any, Any] | None, steps: int | None,
        guidance: float | None,
    ) -> Array:  # fmt: skip
        """n draws from the learned prior (one per label index when labels are given)."""
        assert self.learned_prior is not None  # the caller checked
        rng = np.random.default_rng(seed)
        return self.learned_prior.sample(n, rng, labels, steps, guidance)

    def view3d(self, latents: Array) -> Array:
        return self.projection(latents)


def _pixels(decoded: Array) -> Array:
    """(N, 1, 28, 28) model output -> finite float32 (N, 28, 28) in [0, 1]."""
    x = np.nan_to_num(decoded[:, 0].astype(np.float32, copy=False), nan=0.0)
    return np.ascontiguousarray(np.clip(x, 0.0, 1.0), dtype=np.float32)

"""Per-label priors from the manifest (`label_priors`, docs/model-format.md): conditional
sampling ("draw me a 7"), label names or numbers resolved at the API's edge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.errors import InvalidInput
from service.repository.manifest import Manifest

Array = np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True)
class LabelPriors:
    """One Gaussian per label: z = mean[y] + eps @ scale_tril[y].T (or mean + std * eps)."""

    names: list[str]  # index = label
    weights: np.ndarray[Any, np.dtype[np.float64]]  # (L,), sums to 1
    means: Array  # (L, D)
    stds: Array  # (L, D)
    trils: Array | None  # (L, D, D), or None: diagonal

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> LabelPriors | None:
        spec = manifest.label_priors
        if spec is None:
            return None
        full = all(p.scale_tril is not None for p in spec.labels)
        weights = np.asarray([p.weight for p in spec.labels], np.float64)
        return cls(
            names=[p.name for p in spec.labels],
            weights=weights / weights.sum(),
            means=np.asarray([p.mean for p in spec.labels], np.float32),
            stds=np.asarray([p.std for p in spec.labels], np.float32),
            trils=np.asarray([p.scale_tril for p in spec.labels], np.float32) if full else None,
        )

    def resolve(self, given: Sequence[str]) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Label names (any case) or numbers, comma-separated or repeated, as label indices;
        an unknown one is a 422 that lists the labels there are."""
        lookup = {name.lower(): i for i, name in enumerate(self.names)}
        lookup.update({str(i): i for i in range(len(self.names))})
        tokens = [t.strip() for item in given for t in item.split(",") if t.strip()]
        unknown = [t for t in tokens if t.lower() not in lookup]
        if unknown or not tokens:
            listed = ", ".join(f"{i}={name}" for i, name in enumerate(self.names))
            what = f"unknown label {unknown[0]!r}" if unknown else "no label given"
            raise InvalidInput(f"{what}; labels are {listed}", code="unknown_label")
        return np.asarray([lookup[t.lower()] for t in tokens], np.int64)

    def sample(self, labels: np.ndarray[Any, Any], rng: np.random.Generator) -> Array:
        """One latent per entry of `labels` (N,): (N, D)."""
        eps = rng.standard_normal((len(labels), self.means.shape[1]), dtype=np.float32)
        if self.trils is None:
            z: Array = self.means[labels] + self.stds[labels] * eps
        else:
            z = self.means[labels] + np.einsum("nij,nj->ni", self.trils[labels], eps)
        return z.astype(np.float32)

    def mixture(self, n: int, rng: np.random.Generator) -> Array:
        """n draws from the mixture: a label by its weight, then from that label's Gaussian."""
        return self.sample(rng.choice(len(self.names), size=n, p=self.weights), rng)

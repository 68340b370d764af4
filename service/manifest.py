"""manifest.json as typed models: what the service relies on (docs/model-format.md).
Unknown keys are kept, so /models/{name} can return the manifest as the trainer wrote it."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class DatasetInfo(_Open):
    name: str
    label_names: list[str]
    image_shape: list[int] = [1, 28, 28]


class PriorSpec(_Open):
    kind: Literal["standard_normal", "gaussian"]
    mean: list[float]
    std: list[float]
    scale_tril: list[list[float]] | None = None  # Cholesky factor; None means diagonal
    low: list[float] | None = None
    high: list[float] | None = None


class ProjectionSpec(_Open):
    mean: list[float]  # (D,)
    axes: list[list[float]]  # (D, 3): view3d = (z - mean) @ axes


class EmbeddingsSpec(_Open):
    file: str = "embeddings.npz"
    split: str = "test"
    count: int = Field(ge=0)
    view3d: Literal["latent", "pca"]
    projection: ProjectionSpec  # the map to the 3-D view, for latents not in the file
    has_latents: bool
    tsne: bool = False


class ArtifactFile(_Open):
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class OnnxArtifacts(_Open):
    opset: int
    encode: ArtifactFile
    decode: ArtifactFile


class Artifacts(_Open):
    onnx: OnnxArtifacts | None = None


class Manifest(_Open):
    format_version: Literal[1]
    name: str
    model: str
    architecture: str
    dataset: DatasetInfo
    latent_dim: int = Field(ge=1)
    latent_shape: list[int]
    metrics: dict[str, Any] = {}
    prior: PriorSpec
    embeddings: EmbeddingsSpec
    model_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    artifacts: Artifacts | None = None  # absent in folders from before ONNX export

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        d = self.latent_dim
        if math.prod(self.latent_shape) != d:
            raise ValueError(f"latent_shape {self.latent_shape} does not hold {d} values")
        if len(self.prior.mean) != d or len(self.prior.std) != d:
            raise ValueError(f"prior mean/std must have latent_dim = {d} values")
        tril = self.prior.scale_tril
        if tril is not None and (len(tril) != d or any(len(row) != d for row in tril)):
            raise ValueError(f"prior scale_tril must be {d}x{d}")
        return self

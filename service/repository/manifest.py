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
    # "label_priors": unconditional samples pick a label by weight, then draw from its prior.
    mixture: Literal["label_priors"] | None = None


class LabelPrior(_Open):
    name: str
    weight: float = Field(ge=0)  # the label's share of the train split
    mean: list[float]
    std: list[float]
    scale_tril: list[list[float]] | None = None  # Cholesky factor; None means diagonal


class LabelPriorsSpec(_Open):
    kind: Literal["gaussian"]
    labels: list[LabelPrior]  # index = label


class LearnedPriorSpec(_Open):
    """prior.onnx: a flow-matching velocity net over normalised latents (issue 23)."""

    kind: Literal["flow_matching"]
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    dim: int = Field(ge=1)
    null_label: int = Field(ge=0)  # = the number of labels: the "no label" index
    solver: Literal["midpoint"] = "midpoint"
    steps: int = Field(ge=1)  # default ODE steps
    guidance: float = Field(ge=0)  # default classifier-free guidance for labelled draws
    mean: list[float]  # z = mean + std * x(1)
    std: list[float]
    preferred: bool = False  # measured better than the Gaussian prior: /sample's default


class ProjectionSpec(_Open):
    mean: list[float]  # (D,)
    axes: list[list[float]]  # (D, 3): view3d = (z - mean) @ axes


class SplitSpec(_Open):
    file: str
    count: int = Field(ge=0)
    has_latents: bool
    tsne: bool = False


class EmbeddingsSpec(_Open):
    file: str = "embeddings.npz"
    split: str = "test"
    count: int = Field(ge=0)
    view3d: Literal["latent", "pca"]
    projection: ProjectionSpec  # the map to the 3-D view, for latents not in the file
    has_latents: bool
    tsne: bool = False
    splits: dict[str, SplitSpec] = {}  # further splits beside the test one: {"train": ...}


class MapFile(_Open):
    file: str
    count: int = Field(ge=0)


class MapsSpec(_Open):
    """The explorer's 2-D maps (maps.npz, maps-train.npz): computed at export, only read here."""

    views: list[Literal["umap2d", "pca2d"]]
    test: MapFile
    train: MapFile | None = None


class ArtifactFile(_Open):
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class OnnxArtifacts(_Open):
    opset: int
    encode: ArtifactFile
    decode: ArtifactFile


class TorchArtifacts(_Open):
    """A torch.export program or an AOTInductor package per verb: runs only on a torch that
    can read what `torch_version` wrote (AOTInductor: the same torch, on `device`)."""

    torch_version: str
    encode: ArtifactFile
    decode: ArtifactFile


class Artifacts(_Open):
    onnx: OnnxArtifacts | None = None
    torch_export: TorchArtifacts | None = None  # encoder.pt2 / decoder.pt2
    aoti: TorchArtifacts | None = None  # encoder.aoti.pt2 / decoder.aoti.pt2, CPU


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
    label_priors: LabelPriorsSpec | None = None  # absent in folders from before issue 12
    maps: MapsSpec | None = None  # absent in folders from before issue 22
    learned_prior: LearnedPriorSpec | None = None  # absent in folders from before issue 23

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
        if self.label_priors is not None:
            _check_label_priors(self.label_priors, d, len(self.dataset.label_names))
        elif self.prior.mixture is not None:
            raise ValueError("prior.mixture names label_priors, which the manifest lacks")
        if self.learned_prior is not None:
            _check_learned_prior(self.learned_prior, d, len(self.dataset.label_names))
        return self


def _check_learned_prior(spec: LearnedPriorSpec, d: int, n_labels: int) -> None:
    if spec.dim != d or len(spec.mean) != d or len(spec.std) != d:
        raise ValueError(f"learned_prior: dim, mean and std must have latent_dim = {d} values")
    if spec.null_label != n_labels:
        raise ValueError(f"learned_prior: null_label must be {n_labels} (the label count)")


def _check_label_priors(spec: LabelPriorsSpec, d: int, n_labels: int) -> None:
    if len(spec.labels) != n_labels:
        raise ValueError(f"label_priors has {len(spec.labels)} labels; dataset has {n_labels}")
    for p in spec.labels:
        tril = p.scale_tril
        if len(p.mean) != d or len(p.std) != d:
            raise ValueError(f"label_priors {p.name!r}: mean/std must have {d} values")
        if tril is not None and (len(tril) != d or any(len(row) != d for row in tril)):
            raise ValueError(f"label_priors {p.name!r}: scale_tril must be {d}x{d}")

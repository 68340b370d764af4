"""Request and response bodies, with the constraints and examples /docs shows."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Latents are finite and sane in size; anything else is a client bug worth a 422.
LatentValue = Annotated[float, Field(allow_inf_nan=False, ge=-1e6, le=1e6)]


class DecodeRequest(BaseModel):
    """One latent, or a batch of them; D values each (GET /models says D per model)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"latent": [0.5, -1.0, 2.0]}]},
    )
    latent: list[LatentValue] | None = Field(None, description="one latent of D values")
    latents: list[list[LatentValue]] | None = Field(
        None, description="a batch of latents; the reply is one grid PNG"
    )

    @model_validator(mode="after")
    def _one_of(self) -> DecodeRequest:
        if (self.latent is None) == (self.latents is None):
            raise ValueError('send exactly one of "latent" or "latents"')
        return self


class InterpolateRequest(BaseModel):
    """Two latents of D values each; the reply decodes `steps` evenly spaced points from
    start to end (both ends included)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"start": [0.0, -5.0, 0.0], "end": [10.0, 5.0, 8.0]}]},
    )
    start: list[LatentValue] = Field(description="the first latent (D values)")
    end: list[LatentValue] = Field(description="the last latent (D values)")
    steps: int = Field(8, ge=2, description="images in the strip, ends included")


class InterpolateResponse(BaseModel):
    model: str
    latents: list[list[float]] = Field(description="steps x D, start to end")
    pixels: list[list[list[float]]] = Field(description="steps x 28 x 28, in [0, 1]")


class PixelsRequest(BaseModel):
    """Pixels the model sees directly: floats in [0, 1], light ink on black."""

    pixels: list[Any] = Field(
        description="784 values, 28x28 nested lists, or a batch of either (N x 784, N x 28 x 28)"
    )


class EncodeOne(BaseModel):
    model: str
    latent: list[float] = Field(description="the D-dimensional latent")
    view3d: list[float] | None = Field(description="where it lands on the /embeddings 3-D plot")


class EncodeBatch(BaseModel):
    model: str
    latents: list[list[float]]
    view3d: list[list[float]] | None


class DecodeOne(BaseModel):
    model: str
    pixels: list[list[float]] = Field(description="28x28, in [0, 1]")


class DecodeBatch(BaseModel):
    model: str
    pixels: list[list[list[float]]] = Field(description="N x 28 x 28, in [0, 1]")


class ReconstructOne(EncodeOne):
    input: list[list[float]] = Field(description="the 28x28 the model saw, after centring")
    pixels: list[list[float]] = Field(description="the 28x28 reconstruction")
    mse: float = Field(description="mean squared error per pixel, input vs reconstruction")


class ReconstructBatch(EncodeBatch):
    inputs: list[list[list[float]]]
    pixels: list[list[list[float]]]
    mse: list[float]


class SampleResponse(BaseModel):
    model: str
    seed: int = Field(description="pass it again to get the same samples")
    latents: list[list[float]]
    pixels: list[list[list[float]]]
    labels: list[str] | None = Field(None, description="each sample's label, when asked for")


class ModelSummary(BaseModel):
    name: str = Field(description="the value for ?model=")
    version: int = Field(description="the default version: what requests without ?version= get")
    versions: list[int] = Field(description="every version served (values for ?version=)")
    runtime: str = Field(description="what runs it: onnx or torchscript")
    model: str = Field(description="zoo design")
    architecture: str
    dataset: str
    label_names: list[str]
    latent_dim: int
    latent_shape: list[int]
    prior: str = Field(description="standard_normal or gaussian")
    embeddings: int = Field(description="points served by /embeddings")
    metrics: dict[str, Any]


class ModelList(BaseModel):
    default: str | None
    models: list[ModelSummary]


class Health(BaseModel):
    status: str = "ok"


class Readiness(BaseModel):
    status: str = Field(description="ready, or not_ready (503) while no model is loaded")
    models: list[str]
    versions: dict[str, list[int]] = Field(description="versions served, per model")
    default: str | None
    failed: dict[str, str] = Field(
        description="model folders (or name/version) skipped, with the reason"
    )
    worker: int = Field(description="process id of the worker that answered (one of several)")


class ErrorDetail(BaseModel):
    code: str = Field(examples=["latent_size"])
    message: str = Field(examples=["latent has 2 values; model mlp3d expects 3"])
    status: int = Field(examples=[422])


class ErrorResponse(BaseModel):
    """Every error, from every endpoint, has this shape."""

    error: ErrorDetail

"""Request and response bodies, with the constraints and examples /docs shows."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    Strict,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

# Latents are finite and sane in size; anything else is a client bug worth a 422. Strict: JSON
# numbers only (a string "1.5" or `true` is not a latent value, as the schema says).
LatentValue = Annotated[float, Strict(), Field(allow_inf_nan=False, ge=-1e6, le=1e6)]
Latent = Annotated[
    list[LatentValue],
    # D values: the length is the model's (GET /models), checked per request (422 latent_size).
    Field(json_schema_extra={"minItems": 1}),
]
# "x-cap": a limit from the settings that service/http/openapi.py writes into the schema at
# start-up.
_BATCH: JsonDict = {"minItems": 1, "x-cap": "max_batch"}


def _not_null(prop: JsonSchemaValue) -> JsonSchemaValue:
    """An optional field's schema without its `null` branch and `default: null`."""
    shown = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
    options = [s for s in prop.get("anyOf", []) if s.get("type") != "null"]
    return {**options[0], **shown} if options else shown


class DecodeRequest(BaseModel):
    """One latent, or a batch of them: exactly one of `latent` or `latents`; D values each
    (GET /models says D per model; another length is a 422 `latent_size`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"latent": [0.5, -1.0, 2.0]}]},
    )
    # None only stands for "not sent": an explicit null is refused, and the schema shows no null.
    latent: Latent | None = Field(None, description="one latent of D values")
    latents: list[Latent] | None = Field(
        None, description="a batch of latents; the reply is one grid PNG", json_schema_extra=_BATCH
    )

    @model_validator(mode="before")
    @classmethod
    def _one_of(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [key for key in ("latent", "latents") if key in data]
            if len(given) != 1:
                raise ValueError('send exactly one of "latent" or "latents"')
            if data[given[0]] is None:
                raise ValueError(f'"{given[0]}" must be a list, not null')
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The two shapes as a `oneOf` of closed objects, so generated clients and fuzzers see
        that the fields exclude each other."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        props = schema.pop("properties")
        schema.pop("required", None)
        schema.pop("additionalProperties", None)
        schema.pop("type", None)
        schema["oneOf"] = [
            {
                "title": title,
                "type": "object",
                "properties": {key: _not_null(props[key])},
                "required": [key],
                "additionalProperties": False,
            }
            for key, title in (("latent", "OneLatent"), ("latents", "LatentBatch"))
        ]
        return schema


def _json_integer(value: Any) -> Any:
    """An integer as JSON Schema counts them (8 or 8.0), never "8" or true."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON integer")
    return value


JsonInteger = Annotated[int, BeforeValidator(_json_integer)]
_STEPS_CAP: JsonDict = {"x-cap": "max_batch"}


class InterpolateRequest(BaseModel):
    """Two latents of D values each; the reply decodes `steps` evenly spaced points from
    start to end (both ends included)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"start": [0.0, -5.0, 0.0], "end": [10.0, 5.0, 8.0]}]},
    )
    start: Latent = Field(description="the first latent (D values)")
    end: Latent = Field(description="the last latent (D values)")
    steps: JsonInteger = Field(
        8, ge=2, description="images in the strip, ends included", json_schema_extra=_STEPS_CAP
    )


class InterpolateResponse(BaseModel):
    model: str
    latents: list[list[float]] = Field(description="steps x D, start to end")
    pixels: list[list[list[float]]] = Field(description="steps x 28 x 28, in [0, 1]")


_PIXEL = {"type": "number", "minimum": 0, "maximum": 1}
_FLAT = {"type": "array", "items": _PIXEL, "minItems": 784, "maxItems": 784}
_ROW = {"type": "array", "items": _PIXEL, "minItems": 28, "maxItems": 28}
_SQUARE = {"type": "array", "items": _ROW, "minItems": 28, "maxItems": 28}
PIXELS_SCHEMA: dict[str, Any] = {
    "description": "784 values, 28x28 nested lists, or a batch of either (N x 784, N x 28 x 28); "
    "numbers in [0, 1], light ink on black",
    "oneOf": [
        {**_FLAT, "title": "one image, 784 values"},
        {**_SQUARE, "title": "one image, 28 rows of 28"},
        {"type": "array", "items": _FLAT, **_BATCH, "title": "a batch, N x 784"},
        {"type": "array", "items": _SQUARE, **_BATCH, "title": "a batch, N x 28 x 28"},
    ],
}


class PixelsRequest(BaseModel):
    """Pixels the model sees directly: floats in [0, 1], light ink on black."""

    pixels: Any = Field(json_schema_extra=PIXELS_SCHEMA)


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
    prior: str | None = Field(None, description="the prior drawn from: learned or gaussian")


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

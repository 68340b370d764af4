"""The protocol's JSON objects ($inference_request, $metadata_model_response, ...), as the
KServe Open Inference Protocol REST spec names them. Tensor `data` stays untyped here:
tensors.py turns it into a checked float32 array in one pass."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

# The spec's $parameters: string, number or boolean values (the binary extension's among them).
Parameters = dict[str, Any]


class RequestInput(BaseModel):
    name: str
    shape: list[int] = Field(description="the full shape, batch dimension first")
    datatype: str = Field(description="FP32 for every latentlab tensor")
    parameters: Parameters | None = Field(None, description='e.g. {"binary_data_size": 3136}')
    data: Any = Field(None, description="row-major values, flat or nested; omit for binary")


class RequestOutput(BaseModel):
    name: str
    parameters: Parameters | None = Field(None, description='e.g. {"binary_data": true}')


class InferenceRequest(BaseModel):
    """$inference_request: one input tensor; `outputs` optional (default: all, as JSON)."""

    id: str | None = Field(None, description="echoed in the response")
    parameters: Parameters | None = Field(None, description='e.g. {"binary_data_output": true}')
    inputs: list[RequestInput] = Field(
        min_length=1, description="the model's one input (GET /v2/models/{name} names it)"
    )
    outputs: list[RequestOutput] | None = None


class ResponseOutput(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    parameters: Parameters | None = None
    data: list[float] | None = None


class InferenceResponse(BaseModel):
    """$inference_response (with binary outputs, the raw tensors follow this JSON)."""

    model_name: str
    model_version: str
    id: str | None = None
    outputs: list[ResponseOutput]


class TensorMetadata(BaseModel):
    name: str
    datatype: str
    shape: list[int] = Field(description="-1 for the batch dimension")


class ModelMetadata(BaseModel):
    """$metadata_model_response."""

    name: str
    versions: list[str]
    platform: str = Field(description="onnxruntime_onnx or pytorch_libtorch, by runtime")
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(BaseModel):
    """$metadata_server_response."""

    name: str
    version: str
    extensions: list[str]


class ServerLive(BaseModel):
    live: bool


class ServerReady(BaseModel):
    ready: bool


class ModelReady(BaseModel):
    name: str
    ready: bool


class OipErrorBody(BaseModel):
    """$inference_error_response: every /v2 failure."""

    error: str


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its $defs inlined, for a hand-written OpenAPI body."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved

"""/v2: the Open Inference Protocol's REST API (KServe v2, Triton's HTTP API), beside our own
verbs and on the same engine. Each model NAME is NAME-encoder and NAME-decoder (oip/models.py);
errors answer {"error": "..."} (oip/errors.py). `health` stays open like /healthz; `router`
is guarded by the API key like the verbs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from service.errors import NotReady
from service.http.deps import running
from service.http.state import ServiceState
from service.oip.errors import OipRoute
from service.oip.models import OipModel, resolve
from service.oip.schemas import (
    InferenceRequest,
    InferenceResponse,
    ModelMetadata,
    ModelReady,
    OipErrorBody,
    ServerLive,
    ServerMetadata,
    ServerReady,
    inline_schema,
)
from service.oip.tensors import HEADER, Call, inflate, read_call, write_response
from service.repository.registry import Registry

P = ParamSpec("P")
T = TypeVar("T")
EXTENSIONS = ["binary_tensor_data"]
# Bodies parsed, and replies rendered, on the event loop below this size; larger ones (a batch
# of JSON images is megabytes) go to a worker thread so the loop keeps serving.
_INLINE_BYTES = 64 * 1024


# One example answer per status, in the protocol's shape.
_EXAMPLES = {
    400: "input 'latents' has shape [1, 2]; expected [-1, 3]",
    401: "missing or wrong API key; send it in the X-API-Key header",
    404: "unknown model 'nope'; models: conv32-decoder, conv32-encoder, mlp3d-decoder, ...",
    413: "batch of 300 is over the limit of 256 (LATENTLAB_MAX_BATCH); split it",
    415: "cannot read a br body; send it plain, gzip or deflate",
    503: "model mlp3d has 256 requests queued (LATENTLAB_MAX_QUEUE); retry shortly",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries in the protocol's error shape, {"error": "..."}."""
    return {
        s: {
            "model": OipErrorBody,
            "description": "error (see `error`)",
            "content": {"application/json": {"example": {"error": _EXAMPLES[s]}}},
        }
        for s in statuses
    }


_TAG = "open inference protocol"
health = APIRouter(prefix="/v2", tags=[_TAG], route_class=OipRoute)
router = APIRouter(prefix="/v2", tags=[_TAG], route_class=OipRoute)

INFER_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "An $inference_request; with the binary tensor data extension, the "
        f"raw tensors follow the JSON and {HEADER} gives the JSON's length.",
        "content": {
            "application/json": {"schema": inline_schema(InferenceRequest)},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@health.get("/health/live")
async def server_live() -> ServerLive:
    """Live: the process answers HTTP."""
    return ServerLive(live=True)


@health.get("/health/ready", responses=_errors(503))
async def server_ready(request: Request) -> ServerReady:
    """Ready once this worker has loaded its models and started its engine; 503 until then."""
    state: ServiceState = request.app.state.service
    if state.engine is None or not (state.registry and state.registry.models):
        raise NotReady("no model is loaded; see /readyz for why")
    return ServerReady(ready=True)


@router.get("")
async def server_metadata(request: Request) -> ServerMetadata:
    """Server name, version and protocol extensions."""
    return ServerMetadata(name="latentlab", version=request.app.version, extensions=EXTENSIONS)


@router.get("/models/{model_name}", responses=_errors(404))
async def model_metadata(request: Request, model_name: str) -> ModelMetadata:
    """A model's versions, platform, and input and output tensors."""
    return _model(request, model_name, None).metadata()


@router.get("/models/{model_name}/versions/{model_version}", responses=_errors(404))
async def model_version_metadata(
    request: Request, model_name: str, model_version: str
) -> ModelMetadata:
    """One version's metadata."""
    return _model(request, model_name, model_version).metadata()


@router.get("/models/{model_name}/ready", responses=_errors(404))
async def model_ready(request: Request, model_name: str) -> ModelReady:
    """Ready: every model served is loaded and checked at start-up; unknown ones are 404."""
    return ModelReady(name=_model(request, model_name, None).name, ready=True)


@router.get("/models/{model_name}/versions/{model_version}/ready", responses=_errors(404))
async def model_version_ready(request: Request, model_name: str, model_version: str) -> ModelReady:
    """One version's readiness."""
    return ModelReady(name=_model(request, model_name, model_version).name, ready=True)


_INFER: dict[str, Any] = {
    "response_model": InferenceResponse,
    "openapi_extra": INFER_BODY,
    "responses": _errors(400, 404, 413, 415, 503),
}


@router.post("/models/{model_name}/infer", **_INFER)
async def infer(request: Request, model_name: str) -> Response:
    """Run the model on a batch: JSON tensors, or raw ones (binary tensor data extension)."""
    return await run_infer(request, model_name, None)


@router.post("/models/{model_name}/versions/{model_version}/infer", **_INFER)
async def infer_version(request: Request, model_name: str, model_version: str) -> Response:
    """Run one version of the model on a batch."""
    return await run_infer(request, model_name, model_version)


def _model(request: Request, name: str, version: str | None) -> OipModel:
    state: ServiceState = request.app.state.service
    model = resolve(state.registry or Registry(), name, version)
    request.state.model = model.served.name  # labels this request's metrics, as ?model= does
    return model


async def run_infer(request: Request, name: str, version: str | None) -> Response:
    """The handler of both infer routes (and their fast routes, service/http/fastpath.py)."""
    state, engine = running(request)
    model = _model(request, name, version)
    settings, headers = state.settings, request.headers
    body = await request.body()

    def parse() -> Call:
        data = inflate(body, headers.get("content-encoding", ""), settings.max_body_bytes)
        return read_call(data, headers.get(HEADER), model, settings.max_batch)

    call = await _off_loop(len(body), parse)
    values = await model.run(engine, call.tensor)
    return await _off_loop(values.nbytes, write_response, model, call, values)


async def _off_loop(nbytes: int, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """fn(...) here when the data is small, else in a worker thread."""
    if nbytes < _INLINE_BYTES:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)

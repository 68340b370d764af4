"""Typed dependencies: what handlers get from the app (its state, the registry, a model).
Kept few and async: each one is work FastAPI does on the event loop for every request."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader

from service.config import Settings
from service.engine.engine import Engine
from service.errors import NotReady, Unauthorized
from service.http.inputs import read_image_payload
from service.http.state import ServiceState
from service.images.inputs import ImagePayload
from service.repository.model import ServedModel
from service.repository.registry import Registry

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


async def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


def _registry(request: Request) -> Registry:
    registry: Registry | None = request.app.state.service.registry
    if registry is None:
        raise NotReady("the service is starting; models are not loaded yet")
    return registry


async def get_registry(request: Request) -> Registry:
    return _registry(request)


RegistryDep = Annotated[Registry, Depends(get_registry)]


async def get_engine(request: Request) -> Engine:
    engine: Engine | None = request.app.state.service.engine
    if engine is None:
        raise NotReady("the service is starting; models are not loaded yet")
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def running(request: Request) -> tuple[ServiceState, Engine]:
    """The app's state and engine, for the hot handlers: a plain call, not two dependencies
    for FastAPI to solve on every request (each costs more than the model on /decode)."""
    state: ServiceState = request.app.state.service
    if state.engine is None:
        raise NotReady("the service is starting; models are not loaded yet")
    return state, state.engine


async def get_model(
    request: Request,
    model: Annotated[
        str | None, Query(description="model name from GET /models; default: the service's")
    ] = None,
    version: Annotated[
        int | None,
        Query(ge=1, description="model version from GET /models; default: its latest served"),
    ] = None,
) -> ServedModel:
    """The model named by ?model= (or the default) at ?version= (or its default version);
    404 lists the names or versions there are."""
    # No sub-dependencies on purpose: FastAPI solves each one on the event loop, per request.
    served = _registry(request).get(model, version)
    request.state.model = served.name  # labels this request's metrics
    return served


async def require_api_key(
    state: StateDep, key: Annotated[str | None, Security(_api_key_header)]
) -> None:
    """The X-API-Key header must carry LATENTLAB_API_KEY (only installed when that is set)."""
    check_api_key(state.settings, key)


def check_api_key(settings: Settings, key: str | None) -> None:
    expected = settings.api_key
    given = (key or "").encode()
    if expected is None or not secrets.compare_digest(given, expected.get_secret_value().encode()):
        raise Unauthorized("missing or wrong API key; send it in the X-API-Key header")


ModelDep = Annotated[ServedModel, Depends(get_model)]
ImagesDep = Annotated[ImagePayload, Depends(read_image_payload)]
InvertQuery = Annotated[
    Literal["auto", "true", "false"],
    Query(description="invert dark-on-light images: auto decides from the border pixels"),
]
ScaleQuery = Annotated[
    int,
    Query(
        ge=1,
        description="upscale the PNG by this factor (nearest neighbour)",
        json_schema_extra={"x-cap": "max_scale"},  # maximum: LATENTLAB_MAX_SCALE (openapi.py)
    ),
]

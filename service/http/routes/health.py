"""Liveness, readiness and Prometheus metrics; open even when an API key is set."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from service.http.deps import StateDep
from service.http.schemas import Health, Readiness
from service.repository.registry import Registry

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> Health:
    """Alive: the process answers HTTP."""
    return Health()


_NOT_READY: dict[str, Any] = {
    "status": "not_ready",
    "models": [],
    "versions": {},
    "default": None,
    "failed": {"mlp3d": "manifest.json: sha256 of model.pt does not match"},
    "worker": 12345,
    "error": {"code": "not_ready", "message": "no model is loaded", "status": 503},
}


@router.get(
    "/readyz",
    responses={
        503: {
            "model": Readiness,
            "description": "no model loaded (the body also carries `error`)",
            "content": {"application/json": {"example": _NOT_READY}},
        }
    },
)
async def readyz(state: StateDep) -> JSONResponse:
    """Ready once this worker has loaded at least one model; lists folders that failed."""
    registry = state.registry or Registry()
    ready = bool(registry.models)
    body = Readiness(
        status="ready" if ready else "not_ready",
        models=sorted(registry.versions),
        versions={name: sorted(vs) for name, vs in sorted(registry.versions.items())},
        default=registry.default,
        failed=registry.failed,
        worker=os.getpid(),
    ).model_dump()
    if not ready:
        body["error"] = {"code": "not_ready", "message": "no model is loaded", "status": 503}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
async def metrics(state: StateDep) -> Response:
    """Prometheus text format: requests, latencies, model inference time."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)

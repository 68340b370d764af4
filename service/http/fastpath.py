"""The hot routes without FastAPI's per-request machinery.

POST /decode and GET /sample are small requests whose model call takes a few microseconds; a
profile of one worker under wrk showed FastAPI's dependency solving (17% of samples), the walk
through the included routers (6%) and its body handling (4%) costing more than the model.
Each FastRoute sits first in the app's routes, matches one method and path, reads the query
and body itself and calls the route's own handler with what FastAPI would have passed it.

It handles only requests it is sure of: plain parameters (decimal integers, no empty values),
a JSON body that the route's own pydantic model accepts. Anything else goes back through the
app's router with the body replayed, so every error keeps the exact answer (and message) the
FastAPI route gives; the OpenAPI document is FastAPI's, from the routes as declared. The API
key, when one is set, is checked the same way as the routers' dependency does."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import Message, Receive, Scope, Send

from service.config import Settings
from service.http.deps import check_api_key, get_model
from service.http.routes import decode
from service.http.schemas import DecodeRequest

Call = Callable[[Request, bytes], Awaitable[Any] | None]
_POSITIVE = re.compile(r"[1-9][0-9]{0,17}")
_NATURAL = re.compile(r"0|[1-9][0-9]{0,18}")
_FALLBACK = "latentlab.fallback"


def install_fast_routes(app: FastAPI, settings: Settings) -> None:
    """Put the fast routes in front of the app's own (call after the routers are included)."""
    declared = {
        (method, route.path): route
        for route in decode.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    fast = [
        FastRoute(declared["POST", "/decode"], _decode_call, app, settings),
        FastRoute(declared["GET", "/sample"], _sample_call, app, settings),
    ]
    app.router.routes[0:0] = fast


class FastRoute(BaseRoute):
    def __init__(self, route: APIRoute, call: Call, app: FastAPI, settings: Settings) -> None:
        self.route, self.call, self.app, self.settings = route, call, app, settings
        self.method = next(iter(route.methods or {"GET"}))
        self.path = route.path

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] == "http"
            and scope["path"] == self.path
            and scope["method"] == self.method
            and _FALLBACK not in scope
        ):
            return Match.FULL, {"route": self.route, "endpoint": self.route.endpoint}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body() if self.method == "POST" else b""
        if self.settings.api_key is not None:
            check_api_key(self.settings, request.headers.get("x-api-key"))
        answer = self.call(request, body)
        if answer is None:  # not sure: FastAPI's route decides, and words any error
            scope[_FALLBACK] = True
            await self.app.router(scope, _replay(body), send)
            return
        response = await answer
        await response(scope, receive, send)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _int(request: Request, name: str, pattern: re.Pattern[str], default: int | None) -> Any:
    """The parameter as an int, its default when absent, or ... when in doubt."""
    value = request.query_params.get(name)
    if value is None:
        return default
    return int(value) if pattern.fullmatch(value) else ...


def _model_args(request: Request) -> tuple[str | None, int | None] | None:
    model = request.query_params.get("model")
    version = _int(request, "version", _POSITIVE, None)
    if model == "" or version is ...:
        return None
    return model, version


def _decode_call(request: Request, body: bytes) -> Awaitable[Any] | None:
    args, scale = _model_args(request), _int(request, "scale", _POSITIVE, 1)
    if args is None or scale is ... or request.headers.get("content-type") != "application/json":
        return None
    try:
        parsed = DecodeRequest.model_validate(json.loads(body))
    except ValueError:  # bad JSON, or pydantic's ValidationError
        return None

    async def run() -> Any:
        served = await get_model(request, *args)
        return await decode.decode(request, parsed, served, scale)

    return run()


def _sample_call(request: Request, body: bytes) -> Awaitable[Any] | None:
    args = _model_args(request)
    n = _int(request, "n", _POSITIVE, 16)
    seed = _int(request, "seed", _NATURAL, None)
    scale = _int(request, "scale", _POSITIVE, 1)
    labels = request.query_params.getlist("label") or None
    doubtful = any(value is ... for value in (n, seed, scale)) or "" in (labels or [])
    if args is None or doubtful or (seed is not None and seed >= 2**63):
        return None

    async def run() -> Any:
        served = await get_model(request, *args)
        return await decode.sample(request, served, n, seed, scale, labels)

    return run()

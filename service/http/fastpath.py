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

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import Message, Receive, Scope, Send

from service.config import Settings
from service.http.deps import check_api_key, get_model
from service.http.routes import decode, v2
from service.http.schemas import DecodeRequest
from service.oip.errors import oip_answer

Thunk = Callable[[], Awaitable[Response]]
# (request, body, path parameters) -> what answers it, or None to leave it to FastAPI
Call = Callable[[Request, bytes, dict[str, str]], Thunk | None]
Answer = Callable[[Thunk], Awaitable[Response]]
_POSITIVE = re.compile(r"[1-9][0-9]{0,17}")
_NATURAL = re.compile(r"0|[1-9][0-9]{0,18}")
_FALLBACK = "latentlab.fallback"
_PRIORS: dict[str, decode.PriorChoice] = {
    "auto": "auto",
    "learned": "learned",
    "gaussian": "gaussian",
}


def install_fast_routes(app: FastAPI, settings: Settings) -> None:
    """Put the fast routes in front of the app's own (call after the routers are included)."""
    declared = {
        (method, route.path): route
        for module in (decode, v2)
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }

    def fast(method: str, path: str, call: Call, answer: Answer = _plain) -> FastRoute:
        return FastRoute(declared[method, path], method, call, answer, app, settings)

    app.router.routes[0:0] = [
        fast("POST", "/decode", _decode_call),
        fast("GET", "/sample", _sample_call),
        # /v2 answers failures in the protocol's shape, as its routes (OipRoute) do.
        fast("POST", "/v2/models/{model_name}/infer", _infer_call, oip_answer),
        fast("POST", "/v2/models/{model_name}/versions/{model_version}/infer", _infer_call,
             oip_answer),
    ]  # fmt: skip


async def _plain(thunk: Thunk) -> Response:
    return await thunk()


class FastRoute(BaseRoute):
    def __init__(
        self,
        route: APIRoute,
        method: str,
        call: Call,
        answer: Answer,
        app: FastAPI,
        settings: Settings,
    ) -> None:
        self.route, self.method, self.call, self.answer = route, method, call, answer
        self.app, self.settings = app, settings
        self.path, self.regex = route.path, route.path_regex

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != self.method or _FALLBACK in scope:
            return Match.NONE, {}
        found = self.regex.match(scope["path"])
        if found is None:
            return Match.NONE, {}
        child = {"route": self.route, "endpoint": self.route.endpoint}
        return Match.FULL, {**child, "path_params": found.groupdict()}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body() if self.method == "POST" else b""
        thunk = self.call(request, body, scope["path_params"])
        if thunk is None:  # not sure: FastAPI's route decides, and words any error
            scope[_FALLBACK] = True
            await self.app.router(scope, _replay(body), send)
            return

        async def guarded() -> Response:
            if self.settings.api_key is not None:
                check_api_key(self.settings, request.headers.get("x-api-key"))
            return await thunk()

        response = await self.answer(guarded)
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


class _Doubt(Exception):
    """A parameter the fast route leaves to FastAPI to parse (and to word the error for)."""


def _int(request: Request, name: str, pattern: re.Pattern[str], default: int | None) -> int | None:
    """The parameter as an int (plain decimal digits only), or its default when absent."""
    value = request.query_params.get(name)
    if value is None:
        return default
    if not pattern.fullmatch(value):
        raise _Doubt(name)
    return int(value)


def _positive(request: Request, name: str, default: int) -> int:
    return _int(request, name, _POSITIVE, None) or default


def _model_args(request: Request) -> tuple[str | None, int | None]:
    model = request.query_params.get("model")
    if model == "":
        raise _Doubt("model")
    return model, _int(request, "version", _POSITIVE, None)


def _decode_call(request: Request, body: bytes, path: dict[str, str]) -> Thunk | None:
    if request.headers.get("content-type") != "application/json":
        return None
    try:
        model, version = _model_args(request)
        scale = _positive(request, "scale", 1)
        parsed = DecodeRequest.model_validate(json.loads(body))
    except (_Doubt, ValueError):  # ValueError: bad JSON, or pydantic's ValidationError
        return None

    async def run() -> Response:
        served = await get_model(request, model, version)
        return await decode.decode(request, parsed, served, scale)

    return run


def _sample_call(request: Request, body: bytes, path: dict[str, str]) -> Thunk | None:
    query = request.query_params
    try:
        model, version = _model_args(request)
        n, scale = _positive(request, "n", 16), _positive(request, "scale", 1)
        seed = _int(request, "seed", _NATURAL, None)
        steps = _int(request, "steps", _POSITIVE, None)
    except _Doubt:
        return None
    labels = query.getlist("label") or None
    prior = query.get("prior", "auto")
    if (
        (seed is not None and seed >= 2**63)
        or "" in (labels or [])
        or prior not in _PRIORS
        or "guidance" in query  # a float: FastAPI parses it
    ):
        return None

    async def run() -> Response:
        served = await get_model(request, model, version)
        return await decode.sample(
            request, served, n, seed, scale, labels, prior=_PRIORS[prior], steps=steps
        )

    return run


def _infer_call(request: Request, body: bytes, path: dict[str, str]) -> Thunk | None:
    """/v2 infer declares no parameters FastAPI would check: its handler reads the body."""

    async def run() -> Response:
        return await v2.run_infer(request, path["model_name"], path.get("model_version"))

    return run

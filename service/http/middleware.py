"""One pure-ASGI middleware: body-size cap, request metrics, and the last-resort 500."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.errors import BodyTooLarge, error_response
from service.metrics import Metrics

log = logging.getLogger(__name__)


class ServiceMiddleware:
    """Rejects oversized bodies with 413, counts and times every request, and turns any
    unexpected exception into a logged traceback plus a generic 500 body."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})  # request.state lives here; _observe reads its model
        start = time.perf_counter()
        status = 500
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            if self._declared_too_large(scope):
                await self._reject(scope, receive, send_tracked)
            else:
                await self.app(scope, self._limited(receive), send_tracked)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if started:
                raise
            body = error_response(
                500, "internal_error", "internal server error; see the log", path=scope["path"]
            )
            await body(scope, receive, send_tracked)
        finally:
            self._observe(scope, status, time.perf_counter() - start)

    def _declared_too_large(self, scope: Scope) -> bool:
        length = Headers(scope=scope).get("content-length", "")
        return length.isdigit() and int(length) > self.max_body_bytes

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        exc = BodyTooLarge(self.max_body_bytes)
        response = error_response(
            413, "content_too_large", exc.detail, {"Connection": "close"}, scope["path"]
        )
        await response(scope, receive, send)

    def _limited(self, receive: Receive) -> Receive:
        """`receive`, raising BodyTooLarge once more than the cap has arrived (chunked)."""
        seen = 0

        async def receive_limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        return receive_limited

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        model = scope["state"].get("model", "")
        self.metrics.observe_request(template, scope["method"], model, status, seconds)

"""Response helpers: content negotiation, PNGs, JSON arrays, and cached bodies with ETags."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.requests import Request

from service.errors import InvalidInput
from service.images.codec import to_png
from service.repository.embeddings import Rendered

_GZIP_MIN = 1024  # bytes; smaller bodies are not worth a gzip header


def wants_json(request: Request) -> bool:
    """True when the client asks for JSON (Accept: application/json) rather than a PNG."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "image/png" not in accept


def check_cap(name: str, value: int, cap: int, setting: str) -> None:
    if value > cap:
        raise InvalidInput(f"{name} is {value}; the limit is {cap} ({setting})", code=f"{name}_cap")


def png_response(images: np.ndarray[Any, Any], scale: int, **headers: str) -> Response:
    return Response(to_png(images, scale), media_type="image/png", headers=headers)


# Images per response encoded on the event loop: a 28x28 PNG takes ~20 us, less than a thread
# hand-off; a big grid or a JSON pixel array goes to a worker thread so the loop keeps serving.
_INLINE_IMAGES = 4


async def images_response(
    request: Request,
    images: np.ndarray[Any, Any],
    scale: int,
    as_json: Callable[[list[Any]], BaseModel],
    **headers: str,
) -> Response:
    """A PNG (a grid for a batch), or with Accept: application/json the body `as_json` makes
    from the pixels rounded to 4 digits."""

    def build() -> Response:
        if not wants_json(request):
            return png_response(images, scale, **headers)
        return json_response(request, as_json(rounded(images, 4)), **headers)

    if len(images) <= _INLINE_IMAGES and not wants_json(request):
        return build()
    return await run_in_threadpool(build)


def rounded(values: np.ndarray[Any, Any], digits: int = 5) -> Any:
    """Arrays as plain lists for JSON, rounded so bodies stay small."""
    return np.round(values.astype(np.float64), digits).tolist()


def json_response(request: Request, model: BaseModel, **headers: str) -> Response:
    """A pydantic body as JSON, gzipped when the client accepts it and it is worth it (pixel
    arrays shrink ~5x). Called from sync handlers, so compression stays off the event loop."""
    body = model.model_dump_json().encode()
    headers["Vary"] = "Accept-Encoding"
    if len(body) >= _GZIP_MIN and accepts_gzip(request):
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


def _tokens(header: str) -> list[str]:
    return [part.strip() for part in header.split(",") if part.strip()]


def accepts_gzip(request: Request) -> bool:
    for token in _tokens(request.headers.get("accept-encoding", "")):
        coding, _, params = token.partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def cached_response(request: Request, rendered: Rendered, *, private: bool) -> Response:
    """The pre-rendered body (gzipped if accepted), or 304 when If-None-Match matches."""
    gzip_it = accepts_gzip(request)
    etag = rendered.etag_for(gzip_it)
    headers = {
        "ETag": etag,
        "Cache-Control": f"{'private' if private else 'public'}, max-age=60, must-revalidate",
        "Vary": "Accept-Encoding",
    }
    wanted = [t.removeprefix("W/") for t in _tokens(request.headers.get("if-none-match", ""))]
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    if gzip_it:
        headers["Content-Encoding"] = "gzip"
    body = rendered.gzipped if gzip_it else rendered.body
    return Response(body, media_type=rendered.media_type, headers=headers)

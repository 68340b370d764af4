"""Domain exceptions and the handlers that turn every failure into one JSON error shape:

{"error": {"code": "latent_size", "message": "latent has 2 values; ...", "status": 422}}

Under /v2 (the Open Inference Protocol) the shape is the protocol's own, {"error": "..."}, for
failures raised before any /v2 route runs too: a body over the cap, an unknown path, a 500.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException


class ApiError(Exception):
    """A failure the client can fix (or must be told about); `message` says how."""

    status = 400
    code = "bad_request"
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(ApiError):
    status, code = 422, "invalid_input"


class BadImage(ApiError):
    status, code = 422, "bad_image"


class UnsupportedMedia(ApiError):
    status, code = 415, "unsupported_media_type"


class ImageTooLarge(ApiError):
    status, code = 413, "image_too_large"


class ModelNotFound(ApiError):
    status, code = 404, "model_not_found"


class NotReady(ApiError):
    status, code = 503, "not_ready"


class Overloaded(ApiError):
    """The request was not run: its model's queue is full or it waited too long. Clients
    should retry after a moment (Retry-After), as with Triton's and KServe's 503s."""

    status, code = 503, "overloaded"
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "1"}


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class BodyTooLarge(HTTPException):
    """Raised from inside body reading, where FastAPI passes only HTTPExceptions through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is over the {limit:,}-byte limit; send less")


OIP_PREFIX = "/v2"


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    path: str = "",
) -> JSONResponse:
    """The one error shape (the protocol's, for a request whose `path` is under /v2)."""
    if path == OIP_PREFIX or path.startswith(OIP_PREFIX + "/"):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    body = {"error": {"code": code, "message": message, "status": status}}
    return JSONResponse(body, status_code=status, headers=headers)


_CODES = {413: "content_too_large"}  # Python 3.11 still calls 413 "Request Entity Too Large"


def _code_for(status: int) -> str:
    if status in _CODES:
        return _CODES[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _where(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


def describe_validation(errors: Sequence[Any]) -> str:
    """FastAPI/pydantic errors as one line: `query.n: Input should be ...; body.latent.0: ...`."""
    parts = [f"{_where(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
    if status == 404 and exc.detail == "Not Found":
        message = f"no endpoint at {request.url.path}; see /docs for the API"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path}; see /docs"
    return error_response(status, _code_for(status), message, exc.headers, request.url.path)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "validation_error", describe_validation(exc.errors()))


def install_error_handlers(app: FastAPI) -> None:
    """Route every known failure through the one error shape (500s: see middleware.py)."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

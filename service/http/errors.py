"""The handlers that turn every failure into one JSON error shape:

{"error": {"code": "latent_size", "message": "latent has 2 values; ...", "status": 422}}

Under /v2 (the Open Inference Protocol) the shape is the protocol's own, {"error": "..."}, for
failures raised before any /v2 route runs too: a body over the cap, an unknown path, a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from service.errors import ApiError, describe_validation


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

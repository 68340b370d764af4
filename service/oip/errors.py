"""/v2 failures in the protocol's own shape, `{"error": "..."}`, whatever raised them: our
domain errors keep their status (404, 413, 503 with Retry-After), validation is a 400."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request

from service.errors import ApiError, describe_validation


class BadTensor(ApiError):
    """An inference request the protocol cannot run: datatype, shape, size or values."""

    status, code = 400, "bad_tensor"


class TooLarge(ApiError):
    """More rows than LATENTLAB_MAX_BATCH, or a compressed body that inflates past the cap."""

    status, code = 413, "too_large"


def oip_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """The protocol's error object (Triton and KServe answer the same)."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class OipRoute(APIRoute):
    """A route whose errors, from its handler or its dependencies (the API key), answer in the
    protocol's shape rather than through the app's handlers and its nested error object."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            return await oip_answer(lambda: handler(request))

        return answer


async def oip_answer(call: Callable[[], Awaitable[Response]]) -> Response:
    """call()'s response, or its failure in the protocol's shape."""
    try:
        return await call()
    except ApiError as exc:
        return oip_error(exc.status, exc.message, exc.headers)
    except RequestValidationError as exc:
        return oip_error(400, describe_validation(exc.errors()))
    except HTTPException as exc:  # the body cap, hit while reading a chunked body
        return oip_error(exc.status_code, str(exc.detail), exc.headers)

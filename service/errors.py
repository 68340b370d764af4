"""Domain exceptions: every failure the client can fix or must be told about, each with its
HTTP status and a stable `code`. They know nothing of FastAPI: service/http/errors.py turns
them into the one JSON error shape, and service/oip/errors.py into the protocol's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


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

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its code, so it crosses from the image pool's processes intact."""
        return (_rebuild, (type(self), self.message, self.code))


def _rebuild(cls: type[ApiError], message: str, code: str) -> ApiError:
    return cls(message, code=code)


class InvalidInput(ApiError):
    status, code = 422, "invalid_input"


class BadImage(ApiError):
    status, code = 422, "bad_image"


class NoDigit(ApiError):
    """The upload decoded, but nothing in it stands out from the background as ink."""

    status, code = 422, "no_digit"


class UnsupportedMedia(ApiError):
    status, code = 415, "unsupported_media_type"


class ImageTooLarge(ApiError):
    status, code = 413, "image_too_large"


class ModelNotFound(ApiError):
    status, code = 404, "model_not_found"


class SpriteNotFound(ApiError):
    status, code = 404, "sprite_not_found"


class NotReady(ApiError):
    status, code = 503, "not_ready"


class Overloaded(ApiError):
    """The request was not run: its model's queue is full or it waited too long. Clients
    should retry after a moment (Retry-After), as with Triton's and KServe's 503s."""

    status, code = 503, "overloaded"
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "1"}


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


def _where(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


def describe_validation(errors: Sequence[Any]) -> str:
    """FastAPI/pydantic errors as one line: `query.n: Input should be ...; body.latent.0: ...`."""
    parts = [f"{_where(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more

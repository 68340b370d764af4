"""Request bodies -> inputs: a request's images collected by content type (read on the event
loop, decoded later in the worker's image pool, service/images/pool.py), and a /decode
body's latents as a checked (N, D) batch."""

from __future__ import annotations

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request

from service.errors import InvalidInput, UnsupportedMedia
from service.http.schemas import DecodeRequest
from service.http.state import ServiceState
from service.images.inputs import Array, ImagePayload, Invert, Limits, check_batch, image_batch

_IMAGE_TYPES = ("image/", "application/octet-stream")


async def read_image_payload(request: Request) -> ImagePayload:
    """Collect the body by content type; 415 for anything that cannot hold an image."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        max_batch = request.app.state.service.settings.max_batch
        # One file over the cap still parses, so the client hears "batch too large" (422).
        async with request.form(max_files=max_batch + 1, max_fields=max_batch + 1) as form:
            files = [await f.read() for f in form.getlist("file") if isinstance(f, UploadFile)]
        if not files:
            raise InvalidInput("the multipart upload has no `file` field; send the image as `file`")
        check_batch(len(files), max_batch)
        return ImagePayload(files)
    body = await request.body()
    if ctype == "application/json":
        return ImagePayload([], body)
    if ctype == "" or ctype.startswith(_IMAGE_TYPES):
        return ImagePayload([body])
    raise UnsupportedMedia(
        f"cannot read a {ctype} body; send multipart/form-data with a `file` field, "
        'an image/png or image/jpeg body, or application/json {"pixels": [...]}'
    )


def latent_batch(body: DecodeRequest, name: str, dim: int, max_batch: int) -> tuple[Array, bool]:
    """The request's latents as (N, D), each checked against the model's D."""
    rows = [body.latent] if body.latent is not None else body.latents or []
    if not rows:
        raise InvalidInput("latents is empty; send at least one latent", code="latent_size")
    check_batch(len(rows), max_batch)
    for i, row in enumerate(rows):
        if len(row) != dim:
            what = "latent" if body.latent is not None else f"latents[{i}]"
            raise InvalidInput(
                f"{what} has {len(row)} values; model {name} expects {dim}", code="latent_size"
            )
    return np.array(rows, dtype=np.float32), body.latent is not None


async def upload_batch(
    request: Request, payload: ImagePayload, invert: Invert
) -> tuple[Array, bool]:
    """The request's images as (N, 28, 28): uploads through the worker's image pool (503 when
    it is full), JSON pixels in a handler thread."""
    state: ServiceState = request.app.state.service
    s = state.settings
    limits = Limits(s.max_pixels, s.max_batch, s.max_request_pixels)
    if payload.json_body is not None:
        return await run_in_threadpool(image_batch, payload, invert, limits)
    return await state.images.run(payload.files, invert, limits, s.request_timeout_s)

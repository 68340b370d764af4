"""Latents in: /interpolate decodes the straight line between two latents as a strip."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from PIL import Image

from service.errors import InvalidInput
from service.http.deps import ModelDep, ScaleQuery, running
from service.http.responses import check_cap, json_response, rounded, wants_json
from service.http.routes.docs import LATENT_SIZE, SCALE, Example, errors
from service.http.schemas import InterpolateRequest, InterpolateResponse

router = APIRouter(tags=["latents"])

Array = np.ndarray[Any, np.dtype[np.float32]]
_STEPS: dict[int, dict[str, Example]] = {
    422: {"steps_cap": ("steps_cap", "steps is 300; the limit is 256 (LATENTLAB_MAX_BATCH)")}
}
STRIP = {"content": {"image/png": {}}, "description": "a greyscale PNG: one row of `steps` digits"}


def line(body: InterpolateRequest, name: str, dim: int) -> Array:
    """(steps, D): start + t (end - start) for t evenly spaced over [0, 1]."""
    for what, z in (("start", body.start), ("end", body.end)):
        if len(z) != dim:
            raise InvalidInput(
                f"{what} has {len(z)} values; model {name} expects {dim}", code="latent_size"
            )
    start, end = np.array(body.start, np.float64), np.array(body.end, np.float64)
    t = np.linspace(0.0, 1.0, body.steps)[:, None]
    return (start + t * (end - start)).astype(np.float32)


def strip_png(images: Array, scale: int) -> bytes:
    """(N, 28, 28) in [0, 1] -> one PNG with the N digits side by side, nearest-neighbour."""
    pixels = (np.concatenate(list(images), axis=1) * 255.0 + 0.5).astype(np.uint8)
    pixels = pixels.repeat(scale, axis=0).repeat(scale, axis=1)
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


@router.post(
    "/interpolate",
    response_model=InterpolateResponse,
    responses={200: STRIP, **errors(400, 404, 413, 422, 503, extra=(LATENT_SIZE, SCALE, _STEPS))},
)
async def interpolate(
    request: Request,
    body: InterpolateRequest,
    served: ModelDep,
    scale: ScaleQuery = 1,
) -> Response:
    """Decode `steps` latents on the line from start to end: a PNG strip, or JSON pixels."""
    state, engine = running(request)
    check_cap("steps", body.steps, state.settings.max_batch, "LATENTLAB_MAX_BATCH")
    check_cap("scale", scale, state.settings.max_scale, "LATENTLAB_MAX_SCALE")
    latents = line(body, served.name, served.latent_dim)
    images = await engine.decode(served, latents)

    def build() -> Response:
        if not wants_json(request):
            return Response(strip_png(images, scale), media_type="image/png")
        reply = InterpolateResponse(
            model=served.name, latents=rounded(latents), pixels=rounded(images, 4)
        )
        return json_response(request, reply)

    return await run_in_threadpool(build)

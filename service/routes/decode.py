"""Latents in: /decode (given latents) and /sample (latents drawn from the prior)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from service.deps import ModelDep, ScaleQuery, StateDep
from service.inputs import latent_batch
from service.responses import check_cap, json_response, png_response, rounded, wants_json
from service.routes.docs import PNG, errors
from service.schemas import DecodeBatch, DecodeOne, DecodeRequest, SampleResponse

router = APIRouter(tags=["latents"])


@router.post(
    "/decode",
    response_model=DecodeOne | DecodeBatch,
    responses={200: PNG, **errors(401, 404, 413, 422)},
)
def decode(
    request: Request,
    body: DecodeRequest,
    served: ModelDep,
    state: StateDep,
    scale: ScaleQuery = 1,
) -> Response:
    """Decode a latent to a 28x28 PNG (a batch to a grid); Accept: application/json for pixels."""
    settings = state.settings
    check_cap("scale", scale, settings.max_scale, "LATENTLAB_MAX_SCALE")
    latents, single = latent_batch(body, served.name, served.latent_dim, settings.max_batch)
    with state.metrics.time_inference(served.name, "decode"):
        images = served.decode(latents)
    if not wants_json(request):
        return png_response(images, scale)
    pixels = rounded(images, 4)
    if single:
        return json_response(request, DecodeOne(model=served.name, pixels=pixels[0]))
    return json_response(request, DecodeBatch(model=served.name, pixels=pixels))


@router.get(
    "/sample",
    response_model=SampleResponse,
    responses={200: PNG, **errors(401, 404, 422)},
)
def sample(
    request: Request,
    served: ModelDep,
    state: StateDep,
    n: Annotated[int, Query(ge=1, description="how many samples")] = 16,
    seed: Annotated[int | None, Query(ge=0, lt=2**63, description="same seed, same output")] = None,
    scale: ScaleQuery = 1,
) -> Response:
    """Draw n latents from the model's prior and decode them: a grid PNG, or JSON."""
    check_cap("n", n, state.settings.max_samples, "LATENTLAB_MAX_SAMPLES")
    check_cap("scale", scale, state.settings.max_scale, "LATENTLAB_MAX_SCALE")
    seed = secrets.randbelow(2**63) if seed is None else seed
    with state.metrics.time_inference(served.name, "sample"):
        latents, images = served.sample(n, seed)
    if not wants_json(request):
        return png_response(images, scale, **{"X-Seed": str(seed)})
    body = SampleResponse(
        model=served.name, seed=seed, latents=rounded(latents), pixels=rounded(images, 4)
    )
    return json_response(request, body, **{"X-Seed": str(seed)})

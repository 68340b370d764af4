"""Images in: /encode (-> latents) and /reconstruct (-> PNG, or latent + MSE as JSON)."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from service.http.deps import ImagesDep, InvertQuery, ModelDep, ScaleQuery, running
from service.http.inputs import upload_batch
from service.http.responses import check_cap, images_response, rounded
from service.http.routes.docs import BATCH, IMAGE_BODY, IMAGES, PNG, SCALE, errors
from service.http.schemas import EncodeBatch, EncodeOne, ReconstructBatch, ReconstructOne
from service.repository.model import ServedModel

router = APIRouter(tags=["images"])
_ERRORS = errors(400, 404, 413, 415, 422, 503, extra=(IMAGES, BATCH))


def _encoded(
    served: ServedModel, latents: np.ndarray[Any, Any], single: bool
) -> EncodeOne | EncodeBatch:
    z, view = rounded(latents), rounded(served.view3d(latents))
    if single:
        return EncodeOne(model=served.name, latent=z[0], view3d=None if view is None else view[0])
    return EncodeBatch(model=served.name, latents=z, view3d=view)


@router.post("/encode", openapi_extra=IMAGE_BODY, responses=_ERRORS)
async def encode(
    request: Request,
    served: ModelDep,
    payload: ImagesDep,
    invert: InvertQuery = "auto",
) -> EncodeOne | EncodeBatch:
    """Encode an image (or a batch) to its latent and its point in the 3-D embeddings view."""
    _, engine = running(request)
    images, single = await upload_batch(request, payload, invert)  # the image pool
    latents = await engine.encode(served, images)
    return _encoded(served, latents, single)


Array = np.ndarray[Any, Any]


def _reconstructed(
    served: ServedModel, images: Array, latents: Array, recon: Array, single: bool
) -> ReconstructOne | ReconstructBatch:
    enc = _encoded(served, latents, single).model_dump()
    mse = ((recon - images) ** 2).mean(axis=(1, 2)).tolist()
    inputs, pixels = rounded(images, 4), rounded(recon, 4)
    if single:
        return ReconstructOne(**enc, input=inputs[0], pixels=pixels[0], mse=mse[0])
    return ReconstructBatch(**enc, inputs=inputs, pixels=pixels, mse=mse)


@router.post(
    "/reconstruct",
    openapi_extra=IMAGE_BODY,
    response_model=ReconstructOne | ReconstructBatch,
    responses={200: PNG, **_ERRORS, **errors(422, extra=(IMAGES, BATCH, SCALE))},
)
async def reconstruct(
    request: Request,
    served: ModelDep,
    payload: ImagesDep,
    invert: InvertQuery = "auto",
    scale: ScaleQuery = 1,
) -> Response:
    """Encode and decode an image: a PNG, or with Accept: application/json the latent and MSE."""
    state, engine = running(request)
    settings = state.settings
    check_cap("scale", scale, settings.max_scale, "LATENTLAB_MAX_SCALE")
    images, single = await upload_batch(request, payload, invert)
    latents = await engine.encode(served, images)
    recon = await engine.decode(served, latents)

    def as_json(pixels: list[Any]) -> BaseModel:
        return _reconstructed(served, images, latents, recon, single)

    return await images_response(request, recon, scale, as_json)

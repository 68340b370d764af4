"""Latents in: /decode (given latents) and /sample (latents drawn from the prior)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from service.errors import InvalidInput
from service.http.deps import ModelDep, ScaleQuery, running
from service.http.inputs import latent_batch
from service.http.responses import check_cap, images_response, rounded
from service.http.routes.docs import BATCH, LATENT_SIZE, PNG, SCALE, Example, errors
from service.http.schemas import DecodeBatch, DecodeOne, DecodeRequest, SampleResponse
from service.repository.model import ServedModel

router = APIRouter(tags=["latents"])
_SAMPLE: dict[int, dict[str, Example]] = {
    422: {
        "n_cap": ("n_cap", "n is 65; the limit is 64 (LATENTLAB_MAX_SAMPLES)"),
        "unknown_label": ("unknown_label", "unknown label 'x'; labels are 0=0, 1=1, 2=2, ..."),
        "no_label_priors": (
            "no_label_priors",
            "model mlp3d has no label priors; run python -m trainer refresh",
        ),
        "no_learned_prior": (
            "no_learned_prior",
            "model vae has no learned prior; allowed: prior=gaussian (or run python -m trainer"
            " refresh)",
        ),
        "steps_cap": ("steps_cap", "steps is 65; the limit is 64 (LATENTLAB_MAX_SAMPLE_STEPS)"),
    }
}
PriorChoice = Literal["auto", "learned", "gaussian"]
SAMPLE_PNG = {
    **PNG,
    "headers": {
        "X-Seed": {"description": "the seed used", "schema": {"type": "string"}},
        "X-Prior": {"description": "learned or gaussian", "schema": {"type": "string"}},
    },
}


@router.post(
    "/decode",
    response_model=DecodeOne | DecodeBatch,
    responses={200: PNG, **errors(400, 404, 413, 422, 503, extra=(LATENT_SIZE, BATCH, SCALE))},
)
async def decode(
    request: Request,
    body: DecodeRequest,
    served: ModelDep,
    scale: ScaleQuery = 1,
) -> Response:
    """Decode a latent to a 28x28 PNG (a batch to a grid); Accept: application/json for pixels."""
    state, engine = running(request)
    settings = state.settings
    check_cap("scale", scale, settings.max_scale, "LATENTLAB_MAX_SCALE")
    latents, single = latent_batch(body, served.name, served.latent_dim, settings.max_batch)
    images = await engine.decode(served, latents)

    def as_json(pixels: list[Any]) -> BaseModel:
        if single:
            return DecodeOne(model=served.name, pixels=pixels[0])
        return DecodeBatch(model=served.name, pixels=pixels)

    return await images_response(request, images, scale, as_json)


@router.get(
    "/sample",
    response_model=SampleResponse,
    responses={200: SAMPLE_PNG, **errors(404, 422, 503, extra=(SCALE, _SAMPLE))},
)
async def sample(
    request: Request,
    served: ModelDep,
    n: Annotated[
        int, Query(ge=1, description="how many samples", json_schema_extra={"x-cap": "max_samples"})
    ] = 16,
    seed: Annotated[int | None, Query(ge=0, lt=2**63, description="same seed, same output")] = None,
    scale: ScaleQuery = 1,
    label: Annotated[list[str] | None, Query(description=_LABEL_HELP)] = None,
    prior: Annotated[PriorChoice, Query(description=_PRIOR_HELP)] = "auto",
    steps: Annotated[
        int | None,
        Query(ge=1, description=_STEPS_HELP, json_schema_extra={"x-cap": "max_sample_steps"}),
    ] = None,
    guidance: Annotated[
        float | None,
        Query(ge=0, description=_GUIDANCE_HELP, json_schema_extra={"x-cap": "max_guidance"}),
    ] = None,
) -> Response:
    """Draw n latents from the model's prior (or its labels' priors) and decode them."""
    state, engine = running(request)
    settings = state.settings
    check_cap("n", n, settings.max_samples, "LATENTLAB_MAX_SAMPLES")
    check_cap("scale", scale, settings.max_scale, "LATENTLAB_MAX_SCALE")
    check_cap("steps", steps or 0, settings.max_sample_steps, "LATENTLAB_MAX_SAMPLE_STEPS")
    _check_guidance(guidance, settings.max_guidance)
    seed = secrets.randbelow(2**63) if seed is None else seed
    learned = _use_learned(served, prior)
    if learned:
        latents, names = await run_in_threadpool(
            _draw_learned, served, n, seed, label, steps, guidance
        )
    else:
        latents, names = _draw(served, n, seed, label)
    images = await engine.decode(served, latents)
    used = "learned" if learned else "gaussian"

    def as_json(pixels: list[Any]) -> BaseModel:
        return SampleResponse(
            model=served.name, seed=seed, latents=rounded(latents), pixels=pixels, labels=names,
            prior=used,
        )  # fmt: skip

    headers = {"X-Seed": str(seed), "X-Prior": used}
    return await images_response(request, images, scale, as_json, **headers)


_PRIOR_HELP = (
    "learned: the model's learned prior (prior.onnx); gaussian: its Gaussian prior (per-label "
    "Gaussians with label=); auto: learned where the folder has one that measured better"
)
_STEPS_HELP = "learned prior only: ODE steps (2 net calls each); default: the manifest's"
_GUIDANCE_HELP = "learned prior with label= only: classifier-free guidance scale"


def _check_guidance(guidance: float | None, cap: float) -> None:
    if guidance is not None and guidance > cap:
        raise InvalidInput(
            f"guidance is {guidance}; the limit is {cap} (LATENTLAB_MAX_GUIDANCE)",
            code="guidance_cap",
        )


def _use_learned(served: ServedModel, prior: PriorChoice) -> bool:
    """Whether this request draws from the learned prior; asking for one that is not
    there is a 422 that says what is allowed."""
    learned = served.learned_prior
    if prior == "learned" and learned is None:
        raise InvalidInput(
            f"model {served.name} has no learned prior; allowed: prior=gaussian or prior=auto "
            "(or add one with python -m trainer refresh)",
            code="no_learned_prior",
        )
    return learned is not None and (prior == "learned" or (prior == "auto" and learned.preferred))


def _draw_learned(
    served: ServedModel, n: int, seed: int, label: list[str] | None, steps: int | None,
    guidance: float | None,
) -> tuple[np.ndarray[Any, np.dtype[np.float32]], list[str] | None]:  # fmt: skip
    """n latents from the learned prior, unconditional or cycling through the given labels."""
    if label is None:
        return served.learned_latents(n, seed, None, steps, guidance), None
    labels, names = _labels(served, n, label)
    return served.learned_latents(n, seed, labels, steps, guidance), names


def _labels(
    served: ServedModel, n: int, label: list[str]
) -> tuple[np.ndarray[Any, Any], list[str]]:
    """Sample i's label index (the given ones cycled) and name; unknown labels are a 422."""
    if served.label_priors is None:
        raise InvalidInput(
            f"model {served.name} has no label priors; run python -m trainer refresh",
            code="no_label_priors",
        )
    wanted = served.label_priors.resolve(label)
    labels = wanted[np.arange(n) % len(wanted)]
    return labels, [served.label_priors.names[i] for i in labels]


_LABEL_HELP = (
    "draw from these labels' priors: a name (7, Sneaker) or number, repeated or "
    "comma-separated; sample i gets label i mod the count"
)


def _draw(
    served: ServedModel, n: int, seed: int, label: list[str] | None
) -> tuple[np.ndarray[Any, np.dtype[np.float32]], list[str] | None]:
    """n latents from the Gaussian prior, or cycling through the given labels' priors."""
    if label is None:
        return served.prior_latents(n, seed), None
    labels, names = _labels(served, n, label)
    return served.label_latents(labels, seed), names

"""What is being served: model summaries and full manifests."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.deps import RegistryDep
from service.model import ServedModel
from service.routes.docs import errors
from service.schemas import ModelList, ModelSummary

router = APIRouter(tags=["models"])


def _summary(served: ServedModel) -> ModelSummary:
    m = served.manifest
    return ModelSummary(
        name=served.name,
        model=m.model,
        architecture=m.architecture,
        dataset=m.dataset.name,
        label_names=m.dataset.label_names,
        latent_dim=m.latent_dim,
        latent_shape=m.latent_shape,
        prior=m.prior.kind,
        embeddings=len(served.embeddings),
        metrics=m.metrics,
    )


@router.get("/models", responses=errors(503))
async def list_models(registry: RegistryDep) -> ModelList:
    """Every model being served, with its latent size and test metrics."""
    models = [_summary(registry.models[name]) for name in sorted(registry.models)]
    return ModelList(default=registry.default, models=models)


@router.get("/models/{name}", responses=errors(404))
async def get_manifest(name: str, registry: RegistryDep) -> dict[str, Any]:
    """One model's full manifest.json (architecture, dataset, metrics, prior, ...)."""
    return registry.get(name).manifest_json

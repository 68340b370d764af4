"""What is being served: model summaries and full manifests."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.http.deps import RegistryDep
from service.http.routes.docs import errors
from service.http.schemas import ModelList, ModelSummary
from service.repository.model import ServedModel

router = APIRouter(tags=["models"])


def _summary(served: ServedModel, versions: list[int]) -> ModelSummary:
    m = served.manifest
    return ModelSummary(
        name=served.name,
        version=served.version,
        versions=versions,
        runtime=served.runtime.kind,
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
    models = [
        _summary(registry.get(name), sorted(registry.versions[name]))
        for name in sorted(registry.versions)
    ]
    return ModelList(default=registry.default, models=models)


@router.get("/models/{name}", responses=errors(404, 422, 503))
async def get_manifest(
    name: str,
    registry: RegistryDep,
    version: Annotated[int | None, Query(ge=1, description="default: the latest served")] = None,
) -> dict[str, Any]:
    """One model version's full manifest.json (architecture, dataset, metrics, prior, ...)."""
    return registry.get(name, version).manifest_json

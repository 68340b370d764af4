"""The precomputed labelled latents, for plotting: JSON, CSV, Embedding Projector TSV, or an
Apache Arrow IPC stream; of the test split, the train split, or both."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from service.http.deps import ModelDep, StateDep
from service.http.responses import cached_response
from service.http.routes.docs import Example, errors
from service.repository.embeddings import Format, SplitName
from service.repository.sprites import sprite_index, sprite_path

router = APIRouter(tags=["embeddings"])

_NO_SPLIT: dict[int, dict[str, Example]] = {
    422: {
        "no_split": (
            "no_split",
            "model mlp3d has no train embeddings; run python -m trainer refresh",
        )
    }
}
_NO_SPRITE: dict[int, dict[str, Example]] = {
    404: {"no_sprite": ("sprite_not_found", "no 'train' sprite atlas for dataset 'mnist'")}
}
_ETAG = {"ETag": {"description": "strong validator", "schema": {"type": "string"}}}
_CONTENT: dict[str, dict[str, str]] = {
    "application/json": {},
    "text/csv": {},
    "text/tab-separated-values": {},
    "application/vnd.apache.arrow.stream": {},
}


@router.get(
    "/embeddings",
    response_class=Response,
    responses={
        200: {"content": _CONTENT, "description": "the points", "headers": _ETAG},
        304: {"description": "not modified: the If-None-Match ETag is current", "headers": _ETAG},
        **errors(404, 422, 503, extra=(_NO_SPLIT,)),
    },
)
def embeddings(
    request: Request,
    served: ModelDep,
    state: StateDep,
    format: Annotated[
        Format,
        Query(description="json; csv; tsv (projector vectors); tsv-metadata; arrow (IPC stream)"),
    ] = "json",
    split: Annotated[SplitName, Query(description="test; train; all (train, then test)")] = "test",
    offset: Annotated[int, Query(ge=0, description="first point")] = 0,
    limit: Annotated[int | None, Query(ge=1, description="at most this many points")] = None,
) -> Response:
    """Labelled latents of a split (3-D view, raw latents, t-SNE), with a strong ETag."""
    rendered = served.embeddings.for_split(split).render(format, offset, limit)
    return cached_response(request, rendered, private=state.settings.api_key is not None)


@router.get("/sprites/{dataset}", responses=errors(404, extra=(_NO_SPRITE,)))
def sprites(dataset: str, state: StateDep) -> dict[str, Any]:
    """The dataset's sprite atlases (one PNG per split, images tiled row-major), for thumbnails."""
    return {"dataset": dataset, "splits": sprite_index(state.settings.model_dir, dataset)}


@router.get(
    "/sprites/{dataset}/{split}.png",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}, **errors(404, extra=(_NO_SPRITE,))},
)
def sprite(dataset: str, split: str, state: StateDep) -> FileResponse:
    """One split's sprite atlas: image i of the split at row i // columns, column i % columns."""
    path = sprite_path(state.settings.model_dir, dataset, split)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

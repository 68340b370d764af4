"""The precomputed labelled latents, for plotting: JSON, CSV or Embedding Projector TSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from service.deps import ModelDep, StateDep
from service.embeddings import Format
from service.responses import cached_response
from service.routes.docs import errors

router = APIRouter(tags=["embeddings"])

_CONTENT: dict[str, dict[str, str]] = {
    "application/json": {},
    "text/csv": {},
    "text/tab-separated-values": {},
}


@router.get(
    "/embeddings",
    response_class=Response,
    responses={200: {"content": _CONTENT, "description": "the points"}, 304: {}, **errors(404)},
)
def embeddings(
    request: Request,
    served: ModelDep,
    state: StateDep,
    format: Annotated[
        Format, Query(description="json; csv; tsv (projector vectors); tsv-metadata (labels)")
    ] = "json",
    offset: Annotated[int, Query(ge=0, description="first point")] = 0,
    limit: Annotated[int | None, Query(ge=1, description="at most this many points")] = None,
) -> Response:
    """Labelled latents of the test split (3-D view, raw latents, t-SNE), with a strong ETag."""
    rendered = served.embeddings.render(format, offset, limit)
    return cached_response(request, rendered, private=state.settings.api_key is not None)

"""The report pictures of a model folder (manifest `report`), for the explorer's model card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from service.errors import ApiError
from service.http.deps import RegistryDep, StateDep
from service.http.routes.docs import Example, errors

router = APIRouter(tags=["models"])

_MEDIA_TYPES = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg"}
_MISSING: dict[int, dict[str, Example]] = {
    404: {"no_picture": ("report_not_found", "no report picture 'x.png'; this model has: none")}
}
_IMAGES: dict[int | str, dict[str, Any]] = {
    200: {"content": {t: {} for t in _MEDIA_TYPES.values()}, "description": "the picture"}
}


class ReportNotFound(ApiError):
    status, code = 404, "report_not_found"


def report_file(folder: Path, listed: object, file: str) -> Path:
    """The picture's path, only for a plain image name the manifest lists and the folder has:
    names come from the manifest, never from the request, so no path can escape the folder."""
    names = [n for n in listed if isinstance(n, str)] if isinstance(listed, list) else []
    plain = file in names and Path(file).name == file and not file.startswith(".")
    path = folder / "report" / file
    if not plain or Path(file).suffix.lower() not in _MEDIA_TYPES or not path.is_file():
        shown = ", ".join(names) or "none"
        raise ReportNotFound(f"no report picture {file!r}; this model has: {shown}")
    return path


@router.get(
    "/models/{name}/report/{file}",
    response_class=FileResponse,
    responses={**_IMAGES, **errors(404, 503, extra=(_MISSING,))},
)
async def report(name: str, file: str, registry: RegistryDep, state: StateDep) -> FileResponse:
    """One picture from the model's report (names listed in its manifest's `report`)."""
    served = registry.get(name)
    folder = state.settings.model_dir / served.name
    path = report_file(folder, served.manifest_json.get("report"), file)
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix.lower()])

"""The latent explorer: a static page at / (HTML, CSS, JS and the vendored plotly.js), no
build step and no network beyond this service."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"  # service/static

router = APIRouter(tags=["explorer"])


@router.get("/", include_in_schema=False)
async def explorer() -> FileResponse:
    """The explorer page; it calls the JSON API from the browser."""
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def static_files() -> StaticFiles:
    """/static: the page's scripts, styles and vendored libraries (ETag + Last-Modified)."""
    return StaticFiles(directory=STATIC_DIR)

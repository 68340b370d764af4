"""tests/snapshots/openapi.json: the /openapi.json document the service serves over the
bundled models with default settings, byte for byte. tests/test_openapi_snapshot.py compares
against it, so that work on the hot path cannot change the contract unnoticed; a change to the
API that is meant regenerates it (and the diff is reviewed with the change):

    uv run python -m scripts.openapi_snapshot
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from service.config import Settings
from service.http.app import create_app

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "snapshots" / "openapi.json"


def served_document(model_dir: Path = ROOT / "models") -> bytes:
    settings = Settings(_env_file=None, model_dir=model_dir, workers=1)  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        r = client.get("/openapi.json")
        r.raise_for_status()
        return r.content


def write_snapshot() -> None:
    SNAPSHOT.write_bytes(served_document())
    print(f"wrote {SNAPSHOT.relative_to(ROOT)} ({SNAPSHOT.stat().st_size:,} bytes)")

"""The OpenAPI document is the contract: the hot-path work (and any refactor) must leave it
byte for byte as committed. A change meant to change the API regenerates the snapshot with
`uv run python -m scripts.openapi_snapshot` and the diff is reviewed with it."""

from __future__ import annotations

import json

from harness.openapi_snapshot import SNAPSHOT, served_document


def test_openapi_document_is_byte_for_byte_the_snapshot() -> None:
    served = served_document()
    if served != SNAPSHOT.read_bytes():
        now, then = json.loads(served), json.loads(SNAPSHOT.read_bytes())
        changed = sorted(set(now["paths"]) ^ set(then["paths"])) or [
            p for p in now["paths"] if now["paths"][p] != then["paths"].get(p)
        ]
        raise AssertionError(
            f"/openapi.json differs from {SNAPSHOT.name} (paths: {changed[:8]}); if the change "
            "is meant, run `uv run python -m scripts.openapi_snapshot`"
        )

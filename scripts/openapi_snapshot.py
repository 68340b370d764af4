"""Regenerate tests/snapshots/openapi.json (harness/openapi_snapshot.py says when):

uv run python -m scripts.openapi_snapshot
"""

from harness.openapi_snapshot import write_snapshot

if __name__ == "__main__":
    write_snapshot()

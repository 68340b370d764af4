"""The ceiling: a bare FastAPI `async def` route returning a tiny JSON, on the same uvicorn
(uvloop, httptools), one process.

    uv run python -m bench.peers.bare_fastapi --port 8200
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.post("/decode")
async def decode() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=8200)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args()
    uvicorn.run(
        "bench.peers.bare_fastapi:app",
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()

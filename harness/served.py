"""The service in this process: a real uvicorn on 127.0.0.1 in a thread (for a browser), or
Starlette's TestClient over a chosen set of model folders."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi.testclient import TestClient

from harness.ports import free_port
from service.config import Settings
from service.http.app import create_app


@contextmanager
def uvicorn_thread(settings: Settings, timeout: float = 60.0) -> Iterator[str]:
    """A real uvicorn in a thread on 127.0.0.1; yields its base URL, then stops it."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def app_over(model_root: Path, models: list[str]) -> Iterator[TestClient]:
    """A TestClient over just these folders of `model_root` (linked into a temporary
    repository); the first is the default model."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in models:
            (Path(tmp) / name).symlink_to(model_root / name, target_is_directory=True)
        settings = Settings(model_dir=Path(tmp), default_model=models[0])
        with TestClient(create_app(settings)) as client:
            yield client

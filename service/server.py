"""The process model of `python -m service`: gunicorn's arbiter over uvicorn workers.

Why gunicorn rather than uvicorn's own `--workers`: it imports the app once in the master
and forks the workers (`preload_app`), so start-up pays for the imports once (uvicorn's
supervisor spawns fresh interpreters that each import everything again: 2.3 s to ready
here instead of about 1.5 s), and it is the process manager prometheus_client's multiprocess
mode documents (a dead worker's live gauges are dropped in `child_exit`). Each worker still
runs the app's lifespan itself, so every worker loads its own models after the fork.

Signals (gunicorn's): TERM drains and exits 0 (workers stop accepting, finish in-flight
requests within LATENTLAB_GRACEFUL_TIMEOUT_S); HUP starts fresh workers, which load the
models again, and retires the old ones gracefully; TTIN/TTOU add or remove a worker."""

from __future__ import annotations

import gc
from typing import Any, ClassVar

from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess
from uvicorn_worker import UvicornWorker

from service.config import Settings


class Worker(UvicornWorker):  # type: ignore[misc]  # no type hints either
    """uvicorn on uvloop with the httptools parser: the fast event loop and HTTP parser."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {"loop": "uvloop", "http": "httptools"}


def _child_exit(server: Any, worker: Any) -> None:
    """Forget a dead worker's live gauges (queue depth, models loaded)."""
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


class Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, settings: Settings, workers: int, metrics_dir: str | None) -> None:
        self.settings, self.workers, self.metrics_dir = settings, workers, metrics_dir
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        host = f"[{s.host}]" if ":" in s.host else s.host
        options: dict[str, Any] = {
            "bind": [f"{host}:{s.port}"],
            "workers": self.workers,
            "worker_class": "service.server.Worker",
            "preload_app": True,
            "graceful_timeout": round(s.graceful_timeout_s),
            "timeout": 60,  # a worker silent this long (stuck) is replaced
            "keepalive": 5,
            "accesslog": "-" if s.access_log else None,
            "loglevel": s.log_level,
            "proc_name": "latentlab",
            "worker_tmp_dir": "/dev/shm",  # heartbeats off disk; works on a read-only root
            # gunicorn's control socket (for gunicornc) is unused here, and its default path
            # under $HOME cannot be written by the image's user.
            "control_socket_disable": True,
        }
        if self.metrics_dir is not None:
            options["child_exit"] = _child_exit
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        import onnxruntime  # noqa: F401  # the runtime too (0.3 s), not once per worker

        from service.main import app  # in the master, before the fork: imported once

        # The imported modules live as long as the process: keep them out of the cyclic GC's
        # sight, so its full collections stay short (they were 10-20 ms pauses in /decode's
        # p99) and the forked workers share those pages instead of copying them.
        gc.freeze()
        return app

"""`python -m service`: serve on LATENTLAB_HOST:LATENTLAB_PORT (default 0.0.0.0:8000) with
LATENTLAB_WORKERS processes (default: every CPU this process may use). See server.py."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from service.config import get_settings
from service.cpus import available_cpus

log = logging.getLogger("service")


def main() -> None:
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    workers = settings.workers or available_cpus()
    metrics_dir = None
    if workers > 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Before anything imports prometheus_client's value class: workers write their samples
        # there, and a scrape sums them. A folder given is created and emptied even for one
        # worker, since prometheus_client writes there whenever the variable is set.
        metrics_dir = prepare_multiprocess_dir()
        log.info("%d workers; metrics aggregated in %s", workers, metrics_dir)
    from service.server import Server

    Server(settings, workers, metrics_dir).run()


def prepare_multiprocess_dir() -> str:
    """PROMETHEUS_MULTIPROC_DIR for the workers: the one given, emptied of an earlier run's
    samples (they would be summed in), or a fresh temporary folder. prometheus_client picks
    its multiprocess mode when first imported, so this runs before anything imports it."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="latentlab-")
    Path(folder).mkdir(parents=True, exist_ok=True)
    for stale in Path(folder).glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


if __name__ == "__main__":
    main()

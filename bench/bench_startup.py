"""Start-up time: from launching `python -m service` to the first `/readyz` 200, with the
whole bundled zoo, a few times in a row (each a fresh process, stopped with SIGTERM).

    uv run python -m bench.bench_startup --runs 5

Target: under 2 s on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from harness.ports import free_port

ROOT = Path(__file__).resolve().parent.parent


def time_to_ready(models: Path, workers: str | None) -> tuple[float, int]:
    """Seconds to the first /readyz 200, and how many models that worker serves."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATENTLAB_")}
    env |= {"LATENTLAB_MODEL_DIR": str(models), "LATENTLAB_HOST": "127.0.0.1",
            "LATENTLAB_PORT": str(port), "LATENTLAB_LOG_LEVEL": "warning"}  # fmt: skip
    if workers:
        env["LATENTLAB_WORKERS"] = workers
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        with httpx.Client(timeout=1) as client:
            while time.perf_counter() - start < 60:
                try:
                    r = client.get(f"http://127.0.0.1:{port}/readyz")
                    if r.status_code == 200:
                        return time.perf_counter() - start, len(r.json()["models"])
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
        raise RuntimeError("not ready within 60 s")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--models", type=Path, default=ROOT / "models")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--workers", default=None, help="LATENTLAB_WORKERS (default: the service's)")
    args = p.parse_args()
    times = []
    for i in range(args.runs):
        seconds, models = time_to_ready(args.models, args.workers)
        times.append(seconds)
        print(f"run {i + 1}: ready after {seconds:.2f} s serving {models} models", flush=True)
    print(f"median {statistics.median(times):.2f} s, max {max(times):.2f} s (target < 2 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

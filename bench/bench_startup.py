"""Start-up time: from launching `python -m service` to the first `/readyz` 200, with the
whole bundled zoo, a few times in a row (each a fresh process, stopped with SIGTERM).

    uv run python -m bench.bench_startup --runs 5

Then where the time goes, each part in a fresh interpreter (medians of --runs): importing the
app (`service.main`), loading and smoke-testing the bundled zoo in one process (what each
worker does after the fork), and the rest of the time to ready (gunicorn, the fork, the
first request).

Target (issue 20): median under 1.0 s on the project's 2-core machine.
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


_PARTS = """
import time
t0 = time.perf_counter()
import service.main
t1 = time.perf_counter()
from pathlib import Path
from service.repository.registry import load_registry
registry = load_registry(Path(%r), "mlp3d")
t2 = time.perf_counter()
print(t1 - t0, t2 - t1, len(registry.models))
"""


def parts(models: Path) -> tuple[float, float]:
    """Seconds to import the app, and to load every model folder (one process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATENTLAB_")}
    out = subprocess.run([sys.executable, "-c", _PARTS % str(models)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    return float(out[0]), float(out[1])


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
    ready = statistics.median(times)
    print(f"median {ready:.2f} s, max {max(times):.2f} s (target < 1.0 s)")
    split = [parts(args.models) for _ in range(args.runs)]
    imports = statistics.median(p[0] for p in split)
    loading = statistics.median(p[1] for p in split)
    rest = ready - imports - loading
    print(
        f"where it goes (medians): import service.main {imports:.2f} s | load + smoke-test "
        f"the zoo {loading:.2f} s | gunicorn, fork, first request {rest:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Memory per worker: RSS and PSS (its share of pages shared with the master and the other
workers, from /proc/PID/smaps_rollup) of one `python -m service` worker once it is ready,
serving the whole bundled zoo and serving one model, so the cost of each further model is
(zoo - one) / (models - 1). Linux only.

    uv run python -m bench.bench_memory
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from harness.ports import free_port

ROOT = Path(__file__).resolve().parent.parent


def worker_memory(models: Path) -> tuple[float, float, int]:
    """MB of RSS and PSS of the single worker, and how many models it serves."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATENTLAB_")}
    env |= {"LATENTLAB_MODEL_DIR": str(models), "LATENTLAB_HOST": "127.0.0.1",
            "LATENTLAB_PORT": str(port), "LATENTLAB_WORKERS": "1",
            "LATENTLAB_LOG_LEVEL": "warning"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/readyz")
                if r.status_code == 200:
                    body = r.json()
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("not ready within 120 s")
        rollup = Path(f"/proc/{body['worker']}/smaps_rollup").read_text().splitlines()
        fields = {line.split(":")[0]: int(line.split()[1]) for line in rollup[1:]}
        return fields["Rss"] / 1024, fields["Pss"] / 1024, len(body["models"])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> int:
    zoo = ROOT / "models"
    rss, pss, count = worker_memory(zoo)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(zoo / "mlp3d", Path(tmp) / "mlp3d")
        one_rss, one_pss, _ = worker_memory(Path(tmp))
    each = (rss - one_rss) / (count - 1)
    print(f"one worker, {count} models: RSS {rss:.0f} MB, PSS {pss:.0f} MB")
    print(f"one worker, mlp3d only: RSS {one_rss:.0f} MB, PSS {one_pss:.0f} MB")
    print(f"each further model: {each:.1f} MB RSS on average")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

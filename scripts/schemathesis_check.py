"""The contract check: Schemathesis against `python -m service` on the test fixture models.

Builds the tests' fixture models (harness/fixture_models.py, ~20 s) in a temporary folder,
serves them on 127.0.0.1 at a free port, runs every Schemathesis check over /openapi.json for
a fixed seed and time budget, stops the server, and exits with Schemathesis's status (0: no
failures).

    uv run python -m scripts.schemathesis_check                 # CI: 120 s, seed 20261123
    uv run python -m scripts.schemathesis_check --max-time 30   # a quicker look
    uv run python -m scripts.schemathesis_check --include-path /decode   # other options: run's

Data the schema cannot generate (real images, latents of the chosen model's size) comes from
scripts/schemathesis_hooks.py; the run's reports land in the temporary folder's report/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.ports import free_port, wait_ready

ROOT = Path(__file__).resolve().parent.parent


def build_models(out: Path) -> None:
    from harness.fixture_models import train_fixture_models  # the models the tests serve

    train_fixture_models(out)


def schemathesis_command(url: str, args: argparse.Namespace, reports: Path) -> list[str]:
    return [
        str(Path(sys.executable).parent / "schemathesis"),
        f"--config-file={ROOT / 'scripts' / 'schemathesis.toml'}",
        "run",
        f"{url}/openapi.json",
        "--checks=all",
        f"--seed={args.seed}",
        f"--max-time={args.max_time}",
        f"--workers={args.workers}",
        "--generation-database=none",  # the seed alone decides what is generated
        "--request-timeout=30",
        "--no-color",
        "--report=junit",
        f"--report-dir={reports}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=int, default=120, help="seconds of testing")
    parser.add_argument("--seed", type=int, default=20261123)
    # One worker: with two threads, Hypothesis's ast.parse of lambda sources fails at random
    # on CPython 3.11.7 ("AST constructor recursion depth mismatch", a Runtime Error).
    parser.add_argument("--workers", type=int, default=1, help="Schemathesis workers")
    args, extra = parser.parse_known_args()  # the rest goes to schemathesis run
    tmp = Path(tempfile.mkdtemp(prefix="latentlab-schemathesis-"))
    server = None
    try:
        build_models(tmp / "models")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LATENTLAB_")}
        env.update(
            LATENTLAB_MODEL_DIR=str(tmp / "models"),
            LATENTLAB_HOST="127.0.0.1",
            LATENTLAB_PORT=str(port),
            LATENTLAB_WORKERS="1",
            LATENTLAB_LOG_LEVEL="warning",
        )
        log = (tmp / "service.log").open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "service"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        wait_ready(url, server)
        # From the temporary folder, so Schemathesis's caches stay out of the repository.
        check_env = {**env, "SCHEMATHESIS_HOOKS": "scripts.schemathesis_hooks"}
        check_env.update(PYTHONPATH=str(ROOT), LATENTLAB_CHECK_URL=url)
        command = schemathesis_command(url, args, tmp / "report") + extra
        print("$", " ".join(command), flush=True)
        started = time.monotonic()
        status = subprocess.run(command, cwd=tmp, env=check_env, check=False).returncode
        print(f"schemathesis exited {status} after {time.monotonic() - started:.0f} s")
        if b"Traceback" in (tmp / "service.log").read_bytes():
            print("the service logged a traceback:\n" + (tmp / "service.log").read_text())
            status = status or 1
        return status
    finally:
        if server is not None:
            server.terminate()  # SIGTERM: gunicorn drains and exits
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

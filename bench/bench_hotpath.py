"""The hot path against its own ceiling: one worker, wrk at a fixed concurrency, the same
process's /healthz beside POST /decode (one latent -> PNG), GET /sample?n=1 and /v2 infer on
the decoder, for each way of starting the app (`python -m service` under gunicorn, and plain
`uvicorn service.main:app`). Ratios are within one run of one server, so the machine's noise
cancels out; the worker's CPU time per request (from /proc, over the whole wrk run) is the
figure least moved by other load on the machine.

    uv run python -m bench.bench_hotpath --seconds 8 --clients 16

Targets (issue 20): /decode >= 0.5 of /healthz; p99 at c=16 < 10 ms, whichever way it is started.
Results: bench/results/hotpath.json. Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench.bench_peers import LUA, _ms, stop
from harness.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "hotpath.json"
MODEL = "mlp3d"
LATENT = "[0.5, -1.0, 2.0]"
# route -> (method, path, body)
ROUTES: dict[str, tuple[str, str, str]] = {
    "/healthz": ("GET", "/healthz", ""),
    "/decode": ("POST", f"/decode?model={MODEL}", f'{{"latent": {LATENT}}}'),
    "/sample": ("GET", f"/sample?model={MODEL}&n=1&seed=1", ""),
    "/v2 infer": (
        "POST",
        f"/v2/models/{MODEL}-decoder/infer",
        '{"inputs": [{"name": "latents", "shape": [1, 3], "datatype": "FP32", '
        f'"data": {LATENT}}}]}}',
    ),
}
UVICORN = ["uvicorn", "service.main:app", "--no-access-log", "--log-level", "warning",
           "--loop", "uvloop", "--http", "httptools"]  # fmt: skip
LAUNCHERS: dict[str, list[str]] = {
    "python -m service": [sys.executable, "-m", "service"],
    "uvicorn service.main:app": [sys.executable, "-m", *UVICORN],
}


@dataclass
class Row:
    launcher: str
    route: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float  # the worker's CPU time per answered request
    of_healthz: float = 0.0


def start(argv: list[str], port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATENTLAB_")}
    env |= {"LATENTLAB_HOST": "127.0.0.1", "LATENTLAB_PORT": str(port),
            "LATENTLAB_WORKERS": "1", "LATENTLAB_LOG_LEVEL": "warning",
            "LATENTLAB_DEFAULT_MODEL": MODEL}  # fmt: skip
    if "uvicorn" in argv:
        argv = [*argv, "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip


def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> int:
    """The pid of the worker that answers, once it is ready."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            r = httpx.get(f"{base}/readyz")
            if r.status_code == 200:
                return int(r.json()["worker"])
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("not ready after 120 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, method: str, body: str, clients: int, seconds: float) -> tuple[float, ...]:
    env = {**os.environ, "WRK_METHOD": method, "WRK_BODY": body}
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{round(seconds)}s", "--timeout", "5s", "--latency",
         "-s", str(LUA), url],
        capture_output=True, text=True, check=True, timeout=seconds + 60, env=env,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50, p99 = (_ms(re.search(rf"\s{q}%\s+([\d.]+\w+)", out).group(1)) for q in (50, 99))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return rps, p50, p99, errors + (int(non2xx.group(1)) if non2xx else 0), count


def measure(launcher: str, clients: int, seconds: float) -> list[Row]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(LAUNCHERS[launcher], port)
    rows: list[Row] = []
    try:
        worker = wait_ready(base, proc)
        for route, (method, path, body) in ROUTES.items():
            first = httpx.request(method, base + path, content=body or None,
                                  headers={"Content-Type": "application/json"})  # fmt: skip
            first.raise_for_status()
            wrk(base + path, method, body, clients, 2)  # warm-up
            before = cpu_seconds(worker)
            rps, p50, p99, errors, count = wrk(base + path, method, body, clients, seconds)
            cpu_us = (cpu_seconds(worker) - before) / count * 1e6
            rows.append(Row(launcher, route, rps, p50, p99, int(errors), cpu_us))
            print(f"{launcher:26} {route:10} {rps:8.0f} req/s  p50 {p50:5.2f} ms  "
                  f"p99 {p99:6.2f} ms  {cpu_us:5.0f} us CPU/request  errors {errors}",
                  flush=True)  # fmt: skip
    finally:
        stop(proc)
    for row in rows:
        row.of_healthz = row.rps / rows[0].rps
    return rows


def table(rows: list[Row], clients: int) -> str:
    lines = [
        f"| started with | route | req/s | of /healthz | p50 ms | p99 ms (c={clients}) "
        "| worker CPU per request | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| `{r.launcher}` | {r.route} | {r.rps:,.0f} | {r.of_healthz:.2f} | "
            f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.cpu_us:.0f} us | {r.errors} |"
        )
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--launcher", choices=list(LAUNCHERS), action="append")
    args = p.parse_args()
    launchers = args.launcher or list(LAUNCHERS)
    rows = [r for name in launchers for r in measure(name, args.clients, args.seconds)]
    print()
    print(table(rows, args.clients))
    RESULTS.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

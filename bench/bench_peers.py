"""/decode side by side with the servers people would otherwise pick, in one run: latentlab
with its defaults (and with batching off), LitServe serving the same model.pt in several
configurations, and a bare FastAPI route (the ceiling). Every server decodes one latent to
the same PNG bytes (checked before the load), under wrk at each concurrency; the table
gives req/s, p50, p99 and errors, and the ratios against LitServe's best and the bare route.

    sudo apt-get install wrk                    # the load generator (Debian package)
    uv run --group peers python -m bench.bench_peers --seconds 10

Servers run one at a time on 127.0.0.1, each started fresh and stopped by pid; every wrk run
is bounded by --seconds. Results: bench/results/peers.json and docs/images/peers.png.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from harness.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "wrk_post.lua"
BODY = '{"latent": [0.5, -1.0, 2.0]}'


@dataclass(frozen=True)
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    kind: str  # latentlab | litserve | bare


@dataclass
class Row:
    server: str
    kind: str
    clients: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def servers(model: str) -> list[Server]:
    py, lit = [sys.executable, "-m"], [sys.executable, "-m", "bench.peers.litserve_decode"]
    pt = str(ROOT / "models" / model / "model.pt")
    return [
        Server("latentlab (defaults)", [*py, "service"], {}, "latentlab"),
        Server("latentlab, batching off", [*py, "service"],
               {"LATENTLAB_MAX_BATCH_SIZE": "1"}, "latentlab"),
        Server("LitServe defaults", [*lit, "--model", pt], {}, "litserve"),
        Server("LitServe 2 workers", [*lit, "--model", pt, "--workers", "2"], {}, "litserve"),
        Server("LitServe 2 workers, 2 API servers",
               [*lit, "--model", pt, "--workers", "2", "--api-servers", "2"], {}, "litserve"),
        Server("LitServe batch 16, 5 ms",
               [*lit, "--model", pt, "--max-batch-size", "16", "--batch-timeout", "0.005"],
               {}, "litserve"),
        Server("bare FastAPI route", [*py, "bench.peers.bare_fastapi"], {}, "bare"),
    ]  # fmt: skip


def start(server: Server, port: int, model: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATENTLAB_")}
    env |= {"PYTHONPATH": str(ROOT), "LATENTLAB_HOST": "127.0.0.1",
            "LATENTLAB_PORT": str(port), "LATENTLAB_DEFAULT_MODEL": model,
            "LATENTLAB_LOG_LEVEL": "warning", **server.env}  # fmt: skip
    argv = server.argv if server.kind == "latentlab" else [*server.argv, "--port", str(port)]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip


def first_reply(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> bytes:
    """Poll until the server answers the request; its body (the PNG) for the byte check."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {proc.returncode}")
        try:
            r = httpx.post(url, content=BODY, headers={"Content-Type": "application/json"})
            if r.status_code == 200:
                return r.content
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url}: not answering after {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's whole process group, then SIGKILL to whatever is left of it."""
    os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=20)
    time.sleep(1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def wrk(url: str, clients: int, seconds: float) -> tuple[float, float, float, int]:
    """req/s, p50 ms, p99 ms, errors (non-2xx plus socket errors) of one bounded wrk run."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{round(seconds)}s", "--timeout", "5s", "--latency",
         "-s", str(LUA), url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
        env={**os.environ, "WRK_BODY": BODY},
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50, p99 = (_ms(re.search(rf"\s{q}%\s+([\d.]+\w+)", out).group(1)) for q in (50, 99))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, p99, errors + (int(non2xx.group(1)) if non2xx else 0)


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure(
    server: Server, model: str, levels: list[int], seconds: float
) -> tuple[list[Row], bytes]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/decode"
    started = time.monotonic()
    proc = start(server, port, model)
    try:
        png = first_reply(url, proc)
        print(f"== {server.name}: answering after {time.monotonic() - started:.1f} s", flush=True)
        wrk(url, 16, 2)  # warm-up
        rows = []
        for clients in levels:
            rps, p50, p99, errors = wrk(url, clients, seconds)
            rows.append(Row(server.name, server.kind, clients, rps, p50, p99, errors))
            print(f"   c={clients:<4} {rps:8.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
                  f"  errors {errors}", flush=True)  # fmt: skip
        return rows, png
    finally:
        stop(proc)


def table(rows: list[Row], levels: list[int]) -> str:
    lines = ["| server | " + " | ".join(f"c={c} req/s | c={c} p50 / p99 ms" for c in levels)
             + " | errors |", "| --- " * (2 * len(levels) + 2) + "|"]  # fmt: skip
    for name in dict.fromkeys(r.server for r in rows):
        mine = {r.clients: r for r in rows if r.server == name}
        cells = [f"{mine[c].rps:.0f} | {mine[c].p50_ms:.1f} / {mine[c].p99_ms:.1f}" for c in levels]
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {sum(r.errors for r in mine.values())} |"
        )
    return "\n".join(lines)


def ratios(rows: list[Row], levels: list[int]) -> str:
    out = []
    for c in levels:
        at = [r for r in rows if r.clients == c]
        ours = next(r for r in at if r.server == "latentlab (defaults)")
        lit = max((r for r in at if r.kind == "litserve"), key=lambda r: r.rps)
        bare = next(r for r in at if r.kind == "bare")
        out.append(f"c={c}: latentlab / best LitServe ({lit.server}) = {ours.rps / lit.rps:.2f}x;"
                   f" latentlab / bare route = {ours.rps / bare.rps:.2f}x")  # fmt: skip
    return "\n".join(out)


def plot(rows: list[Row], levels: list[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r.server for r in rows))
    fig, ax = plt.subplots(figsize=(10, 5.2))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [next(r.rps for r in rows if r.server == name and r.clients == c) for c in levels]
        ax.bar([x + i * width for x in range(len(levels))], values, width, label=name)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(levels))], [f"c={c}" for c in levels])
    ax.set_ylabel("POST /decode req/s (2-core machine, wrk -t2)")
    ax.set_title("One latent -> the same 28x28 PNG, every server started fresh in one run")
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", default="mlp3d")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--clients", type=int, nargs="+", default=[16, 64, 256])
    p.add_argument("--only", default="", help="run only servers whose name contains this")
    args = p.parse_args()
    if shutil.which("wrk") is None:
        print("error: wrk not found; install it (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    rows: list[Row] = []
    pngs: dict[str, bytes] = {}
    for server in [s for s in servers(args.model) if args.only in s.name]:
        measured, png = measure(server, args.model, args.clients, args.seconds)
        rows += measured
        pngs[server.name] = png
    same = {pngs[n] for n in pngs if not n.startswith("bare")}
    print(f"\nPNG bytes identical across latentlab and LitServe: {len(same) == 1}")
    print("\n" + table(rows, args.clients))
    if args.only:
        return 0
    print("\n" + ratios(rows, args.clients))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "peers.json").write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
    plot(rows, args.clients, ROOT / "docs" / "images" / "peers.png")  # shown in the docs
    return 0 if len(same) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())

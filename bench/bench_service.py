"""Throughput and latency of the service: req/s, p50 and p99 per endpoint, with the bare
/healthz as the ceiling. Starts `python -m service` on a free port against --models.

    uv run python -m bench.bench_service --models models --clients 16 --seconds 10

Each client is a keep-alive connection sending its next request as soon as the last one
is answered. By default (--client raw) they are plain asyncio streams costing a few
microseconds per request, so the figures are the server's; --client httpx uses
httpx.AsyncClient, whose own CPU cost (it shares the cores with the server) caps every
endpoint near 1,000 req/s here and dominates the p99.

Targets (2-core box): /decode at 16 clients >= 50% of /healthz req/s with p99 < 20 ms;
/embeddings (10k points, warm) < 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from harness.ports import free_port, wait_ready

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "mnist_test_sample.npz"


@dataclass(frozen=True)
class Call:
    """One request, sent over and over."""

    method: str
    path: str  # with its query string
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def raw(self) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", "Host: bench"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.method == "POST":
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Result:
    latencies: list[float]  # seconds, successful requests only
    errors: int
    seconds: float

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q) * 1000) if self.latencies else float("nan")


async def raw_loop(host: str, port: int, call: Call, stop: float, out: Result) -> None:
    """A minimal HTTP/1.1 keep-alive client: the server always sends Content-Length."""
    reader, writer = await asyncio.open_connection(host, port)
    request = call.raw()
    try:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200"):
                out.latencies.append(time.perf_counter() - start)
            else:
                out.errors += 1
    finally:
        writer.close()


async def httpx_loop(base: str, call: Call, stop: float, out: Result) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            r = await client.request(call.method, call.path, content=call.body or None,
                                     headers=call.headers)  # fmt: skip
            if r.status_code == 200:
                out.latencies.append(time.perf_counter() - start)
            else:
                out.errors += 1


async def drive(base: str, call: Call, kind: str, clients: int, seconds: float) -> Result:
    """`clients` concurrent loops for 1 s of warm-up, then `seconds` measured."""
    host, port = base.removeprefix("http://").split(":")

    async def run(span: float) -> Result:
        out, stop = Result([], 0, span), time.perf_counter() + span
        if kind == "raw":
            loops = [raw_loop(host, int(port), call, stop, out) for _ in range(clients)]
        else:
            loops = [httpx_loop(base, call, stop, out) for _ in range(clients)]
        start = time.perf_counter()
        await asyncio.gather(*loops)
        out.seconds = time.perf_counter() - start
        return out

    await run(1.0)
    return await run(seconds)


def digit_png() -> bytes:
    """A real MNIST digit as PNG (a drawn stroke when the sample is missing)."""
    if SAMPLE.exists():
        with np.load(SAMPLE) as f:
            pixels = f["images"][0]
    else:
        pixels = np.zeros((28, 28), np.uint8)
        pixels[4:24, 13:15] = 255
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def calls(base: str, model: str | None) -> tuple[dict[str, Call], int]:
    """The requests to drive, and how many points /embeddings holds."""
    info = httpx.get(f"{base}/models").json()
    name = model or info["default"]
    summary = next(m for m in info["models"] if m["name"] == name)
    latent = np.random.default_rng(0).normal(size=summary["latent_dim"]).round(4).tolist()
    json_type = {"Content-Type": "application/json"}
    gzip_ok = {"Accept-Encoding": "gzip"}
    return {
        "healthz": Call("GET", "/healthz"),
        "decode": Call("POST", f"/decode?model={name}", json.dumps({"latent": latent}).encode(),
                       json_type),
        "encode": Call("POST", f"/encode?model={name}", digit_png(),
                       {"Content-Type": "image/png"}),
        "embeddings": Call("GET", f"/embeddings?model={name}", headers=gzip_ok),
    }, summary["embeddings"]  # fmt: skip


def start_server(models: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LATENTLAB_MODEL_DIR": models, "LATENTLAB_HOST": "127.0.0.1",
           "LATENTLAB_PORT": str(port), "LATENTLAB_LOG_LEVEL": "warning"}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env)


def report(base: str, args: argparse.Namespace) -> None:
    todo, points = calls(base, args.model)
    print(f"{args.clients} clients ({args.client}), {args.seconds:g} s per endpoint, "
          f"{os.cpu_count()} CPUs; /embeddings holds {points:,} points")  # fmt: skip
    print(f"{'endpoint':<12} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} errors")
    results = {}
    for name, call in todo.items():
        r = asyncio.run(drive(base, call, args.client, args.clients, args.seconds))
        results[name] = r
        print(f"{name:<12} {len(r.latencies):>9} {r.rps:>8.0f} {r.ms(50):>8.2f} "
              f"{r.ms(99):>8.2f} {r.errors:>6}", flush=True)  # fmt: skip
    single = asyncio.run(drive(base, todo["embeddings"], args.client, 1, 3))
    decode, ceiling = results["decode"], results["healthz"]
    print(f"/decode: {decode.rps / ceiling.rps:.0%} of /healthz req/s (target >= 50%), "
          f"p99 {decode.ms(99):.1f} ms (target < 20 ms)")  # fmt: skip
    print(f"/embeddings, one client, warm: p50 {single.ms(50):.2f} ms, "
          f"p99 {single.ms(99):.2f} ms (target < 20 ms)")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="models", help="model dir to serve")
    p.add_argument("--model", default=None, help="model to drive (default: the server's)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients")
    p.add_argument("--seconds", type=float, default=10.0, help="measured time per endpoint")
    p.add_argument("--client", choices=["raw", "httpx"], default="raw")
    p.add_argument("--url", default=None, help="drive a running server, e.g. http://127.0.0.1:8000")
    args = p.parse_args()
    if args.url:
        report(args.url.rstrip("/"), args)
        return
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(str(Path(args.models).resolve()), port)
    try:
        wait_ready(base, server, timeout=180.0)
        report(base, args)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

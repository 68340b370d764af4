"""What uploads cost, and what they cost everyone else (issue 19), in one run:

1. CPU seconds of the worst upload the caps allow (the most 4096x4096 PNGs that fit
   LATENTLAB_MAX_REQUEST_PIXELS), and of refusing 128 of them (413 before decoding);
2. latency of one 12 MP phone JPEG, decoded at full size and at draft scale;
3. POST /decode req/s under wrk (`python -m service`, 2 workers, mlp32), quiet and while
   four clients keep posting the worst accepted upload.

    uv run python -m bench.bench_uploads        # needs wrk (Debian: apt-get install wrk)

Every load run is bounded (--seconds each); the server is stopped by its pid.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import numpy as np
from PIL import Image

from harness.ports import free_port
from service.config import Settings
from service.errors import ApiError
from service.images import inputs
from service.images.budget import image_cost
from service.images.codec import plan, probe
from service.images.inputs import Limits, file_batch

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "wrk_post.lua"
LATENT = json.dumps({"latent": [0.1] * 32})  # mlp32


def _png(page: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(page).save(buf, format="PNG")
    return buf.getvalue()


def big_png() -> bytes:
    """4096x4096, a `1` on a blank page: compresses to tens of KB, decodes to 16.8 Mpx."""
    page = np.zeros((4096, 4096), np.uint8)
    page[1000:3000, 2000:2200] = 255
    return _png(page)


def phone_jpeg() -> bytes:
    rng = np.random.default_rng(0)
    page = np.clip(rng.normal(215, 6, (3000, 4000)), 0, 255).astype(np.uint8)
    page[1000:2000, 1900:2050] = 30
    buf = io.BytesIO()
    Image.fromarray(page).convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def cpu_of(files: list[bytes], limits: Limits) -> tuple[float, str]:
    start = time.process_time()
    try:
        file_batch(files, "auto", limits)
        outcome = "200"
    except ApiError as exc:
        outcome = f"{exc.status} {exc.code}"
    return time.process_time() - start, outcome


def latency(data: bytes, limits: Limits, draft: bool, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        if draft:
            file_batch([data], "auto", limits)
        else:
            with mock.patch.object(inputs, "plan", lambda img, side: img):
                file_batch([data], "auto", limits)
        best = min(best, time.perf_counter() - start)
    return best


def wrk(url: str, seconds: int) -> tuple[float, float]:
    """req/s and p99 ms of one bounded wrk run of POST /decode."""
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "5s", "--latency", "-s", str(LUA),
         url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
        env={**os.environ, "WRK_BODY": LATENT},
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(\w+)", out).groups()  # type: ignore[union-attr]
    return rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def under_uploads(
    base: str, files: list[bytes], seconds: int
) -> tuple[float, float, dict[int, int]]:
    """/decode under wrk while 4 clients post `files` back to back; their status counts."""
    stop, statuses, lock = threading.Event(), {}, threading.Lock()

    def uploader() -> None:
        parts = [("file", (f"{i}.png", d, "image/png")) for i, d in enumerate(files)]
        while not stop.is_set():
            try:
                code = httpx.post(f"{base}/encode?model=mlp32", files=parts, timeout=60).status_code
            except httpx.HTTPError:
                code = 0
            with lock:
                statuses[code] = statuses.get(code, 0) + 1

    threads = [threading.Thread(target=uploader) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(2)  # the uploads are in flight
    try:
        rps, p99 = wrk(f"{base}/decode?model=mlp32", seconds)
    finally:
        stop.set()
        for t in threads:
            t.join(90)
    return rps, p99, statuses


def serve(port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATENTLAB_")}
    env |= {"PYTHONPATH": str(ROOT), "LATENTLAB_HOST": "127.0.0.1", "LATENTLAB_PORT": str(port),
            "LATENTLAB_WORKERS": "2", "LATENTLAB_DEFAULT_MODEL": "mlp32",
            "LATENTLAB_LOG_LEVEL": "warning"}  # fmt: skip
    return subprocess.Popen([str(ROOT / ".venv/bin/python"), "-m", "service"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip


def wait_up(base: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            headers = {"Content-Type": "application/json"}
            r = httpx.post(f"{base}/decode?model=mlp32", content=LATENT, headers=headers)
            if r.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the service did not start")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="each wrk run")
    args = parser.parse_args(argv)
    s = Settings()
    limits = Limits(s.max_pixels, s.max_batch, s.max_request_pixels)
    png = big_png()
    per = image_cost(plan(probe(png, s.max_pixels), 400))
    worst = [png] * (s.max_request_pixels // per)
    result: dict[str, Any] = {"max_request_pixels": s.max_request_pixels, "png_bytes": len(png)}
    result["worst_accepted"] = dict(zip(("cpu_s", "status"), cpu_of(worst, limits), strict=True))
    result["worst_accepted"]["images"] = len(worst)
    result["refused_128"] = dict(zip(("cpu_s", "status"), cpu_of([png] * 128, limits), strict=True))
    jpeg = phone_jpeg()
    result["jpeg_12mp_s"] = {
        "full": latency(jpeg, limits, False),
        "draft": latency(jpeg, limits, True),
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(port)
    try:
        wait_up(base, proc)
        wrk(f"{base}/decode?model=mlp32", 2)  # warm-up
        quiet = wrk(f"{base}/decode?model=mlp32", args.seconds)
        loaded = under_uploads(base, worst, args.seconds)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    result["decode"] = {"quiet_rps": quiet[0], "quiet_p99_ms": quiet[1], "uploads_rps": loaded[0],
                        "uploads_p99_ms": loaded[1], "upload_statuses": loaded[2],
                        "kept": loaded[0] / quiet[0]}  # fmt: skip
    out = ROOT / "bench" / "results" / "uploads.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

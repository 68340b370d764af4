"""The four artifact kinds side by side on the committed zoo: TorchScript (model.pt), ONNX
(ONNX Runtime), torch.export programs (.pt2) and AOTInductor packages (.aoti.pt2).

1. Per call, in process, through the service's own runtimes (service/engine/runtime.py, one
   thread as the service runs them): median latency of encode and decode at batch 1 and 64,
   and how far each kind's output is from TorchScript's: max |pixel difference| over 1,000
   decoded prior draws and 1,000 reconstructed test images, max |latent difference|, and how
   many of those 2,000 images the service would send as different PNG bytes.
2. /decode throughput of mlp3d per kind: `python -m service` with LATENTLAB_ENGINE=<kind>,
   loaded with wrk (2 threads, 64 connections, --seconds after a 2 s warm-up), and whether its
   PNG equals TorchScript's byte for byte.

    uv run python -m bench.bench_artifacts --seconds 8

Needs the artifacts in models/ (python -m trainer.export_program models) and wrk (apt-get
install wrk). Results: bench/results/artifacts.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.bench_peers import ROOT, Server, first_reply, start, stop, wrk
from harness.ports import free_port
from service.engine.runtime import EngineChoice, Runtime
from service.images.codec import to_png
from service.repository.artifacts import load_runtime
from service.repository.manifest import Manifest

KINDS: tuple[EngineChoice, ...] = ("torchscript", "onnx", "torch_export", "aoti")
MODELS = ROOT / "models"
SAMPLE = ROOT / "tests" / "fixtures" / "mnist_test_sample.npz"


@dataclass
class CallRow:
    model: str
    kind: str
    encode_1_us: float
    decode_1_us: float
    encode_64_us: float
    decode_64_us: float
    max_pixel_diff: float  # vs TorchScript, decoded and reconstructed images
    max_latent_diff: float
    png_differ: int  # of `images` PNGs, bytes not equal to TorchScript's
    images: int


@dataclass
class ServeRow:
    kind: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    same_png: bool  # the /decode body equals TorchScript's byte for byte


def per_call_us(fn: Callable[[Any], Any], x: np.ndarray, budget_s: float = 0.4) -> float:
    """Median of 7 rounds, each the mean over as many calls as fit the budget / 7."""
    for _ in range(5):
        fn(x)
    start = time.perf_counter()
    fn(x)
    n = max(3, int(budget_s / 7 / max(time.perf_counter() - start, 1e-6)))
    rounds = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(n):
            fn(x)
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(rounds)


def inputs(manifest: Manifest) -> tuple[np.ndarray, np.ndarray]:
    """1,000 prior draws and 1,000 test images, the same for every kind."""
    rng = np.random.default_rng(0)
    mean, std = np.array(manifest.prior.mean), np.array(manifest.prior.std)
    z = (mean + std * rng.standard_normal((1000, manifest.latent_dim))).astype(np.float32)
    with np.load(SAMPLE) as f:
        x = (f["images"][-1000:].astype(np.float32) / 255.0)[:, None]
    return z, x


def outputs(runtime: Runtime, z: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latents of x, and the decoded z and reconstructed x as clipped images (N, 28, 28)."""
    latents = np.concatenate([runtime.encode(c) for c in np.split(x, 10)])
    images = [runtime.decode(c) for c in np.split(np.concatenate([z, latents]), 20)]
    return latents, np.clip(np.concatenate(images)[:, 0], 0.0, 1.0)


def measure_calls(folder: Path) -> list[CallRow]:
    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text())
    z, x = inputs(manifest)
    ref: tuple[np.ndarray, np.ndarray, list[bytes]] | None = None
    rows = []
    for kind in KINDS:
        runtime = load_runtime(folder, manifest, kind, 1, lambda path, digest: None)
        latents, images = outputs(runtime, z, x)
        pngs = [to_png(image[None]) for image in images]
        ref = ref or (latents, images, pngs)
        times = [per_call_us(getattr(runtime, verb), data[:b])
                 for b in (1, 64) for verb, data in (("encode", x), ("decode", z))]  # fmt: skip
        enc1, dec1, enc64, dec64 = times
        rows.append(CallRow(
            folder.name, kind, enc1, dec1, enc64, dec64,
            max_pixel_diff=float(np.abs(images - ref[1]).max()),
            max_latent_diff=float(np.abs(latents - ref[0]).max()),
            png_differ=sum(a != b for a, b in zip(pngs, ref[2], strict=True)),
            images=len(pngs),
        ))  # fmt: skip
        print(f"   {folder.name:14} {kind:12} " + " ".join(f"{t:8.1f}" for t in times)
              + f"  diff {rows[-1].max_pixel_diff:.1e}  PNGs differ {rows[-1].png_differ}",
              flush=True)  # fmt: skip
    return rows


def measure_serving(kind: str, seconds: float) -> tuple[ServeRow, bytes]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/decode"
    server = Server(
        kind, [sys.executable, "-m", "service"], {"LATENTLAB_ENGINE": kind}, "latentlab"
    )
    proc = start(server, port, "mlp3d")
    try:
        png = first_reply(url, proc)
        wrk(url, 16, 2)  # warm-up
        rps, p50, p99, errors = wrk(url, 64, seconds)
    finally:
        stop(proc)
    print(f"== /decode {kind:12} {rps:8.0f} req/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms", flush=True)
    return ServeRow(kind, rps, p50, p99, errors, same_png=False), png


def tables(calls: list[CallRow], serving: list[ServeRow]) -> str:
    lines = [
        "| model | artifact | encode b=1 us | decode b=1 us | encode b=64 us | decode b=64 us "
        "| max abs pixel diff vs TorchScript | PNGs differing |",
        "| --- " * 8 + "|",
    ]
    for r in calls:
        lines.append(f"| {r.model} | {r.kind} | {r.encode_1_us:.0f} | {r.decode_1_us:.0f} | "
                     f"{r.encode_64_us:.0f} | {r.decode_64_us:.0f} | {r.max_pixel_diff:.1e} | "
                     f"{r.png_differ} / {r.images} |")  # fmt: skip
    lines += [
        "",
        "| artifact | geo-mean per-call time vs TorchScript (all models, verbs, batches) |",
        "| --- | --- |",
    ]
    base = {(r.model, f): getattr(r, f) for r in calls if r.kind == "torchscript" for f in FIELDS}
    for kind in KINDS:
        ratios = [getattr(r, f) / base[r.model, f] for r in calls if r.kind == kind for f in FIELDS]
        lines.append(f"| {kind} | {statistics.geometric_mean(ratios):.2f}x |")
    lines += ["", "| artifact | mlp3d /decode req/s (c=64) | p50 / p99 ms | errors "
              "| PNG bytes = TorchScript's |", "| --- " * 5 + "|"]  # fmt: skip
    for s in serving:
        lines.append(f"| {s.kind} | {s.rps:.0f} | {s.p50_ms:.1f} / {s.p99_ms:.1f} | {s.errors} "
                     f"| {'yes' if s.same_png else 'no'} |")  # fmt: skip
    return "\n".join(lines)


FIELDS = ("encode_1_us", "decode_1_us", "encode_64_us", "decode_64_us")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=8.0, help="wrk run per artifact kind")
    p.add_argument("--models", nargs="*", help="zoo folders (default: every committed one)")
    p.add_argument("--no-serve", action="store_true", help="per-call figures only")
    args = p.parse_args(argv)
    folders = [MODELS / m for m in args.models] if args.models else sorted(
        f.parent for f in MODELS.glob("*/manifest.json") if f.parent.name[0] not in "._"
    )  # fmt: skip
    calls = [row for folder in folders for row in measure_calls(folder)]
    serving: list[ServeRow] = []
    if not args.no_serve:
        pngs: dict[str, bytes] = {}
        for kind in KINDS:
            row, pngs[kind] = measure_serving(kind, args.seconds)
            serving.append(row)
        for row in serving:
            row.same_png = pngs[row.kind] == pngs["torchscript"]
    print(tables(calls, serving))
    out = ROOT / "bench" / "results" / "artifacts.json"
    results = {"calls": [asdict(r) for r in calls], "serving": [asdict(r) for r in serving]}
    out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

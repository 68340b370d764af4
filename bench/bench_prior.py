"""Cost of a /sample draw from the learned prior, per committed model, on one CPU core:
the prior alone (midpoint steps over prior.onnx, the whole batch per net call) and the
prior plus the decoder, at n=16, unconditional and labelled (guidance doubles the batch).

    uv run python -m bench.bench_prior --repeats 200

Target: n=16 in under 20 ms on one core. Figures are medians and 95th percentiles of
`--repeats` calls after warm-up; on a shared machine read them as upper bounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from service.repository.registry import load_model

ROOT = Path(__file__).resolve().parent.parent


def timed(fn: Any, repeats: int) -> dict[str, float]:
    for _ in range(5):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 3),
            "p95_ms": round(times[int(0.95 * len(times)) - 1], 3)}  # fmt: skip


def bench_model(folder: Path, n: int, repeats: int) -> dict[str, Any] | None:
    served = load_model(folder, engine="onnx", threads=1)
    prior = served.learned_prior
    if prior is None:
        return None
    labels = np.arange(n, dtype=np.int64) % prior.null_label

    def free() -> Any:
        return served.learned_latents(n, 0, None, None, None)

    def labelled() -> Any:
        return served.learned_latents(n, 0, labels, None, None)

    return {
        "steps": prior.steps,
        "prior": timed(free, repeats),
        "prior_labelled": timed(labelled, repeats),
        "prior_and_decode": timed(lambda: served.decode(free()), repeats),
        "gaussian_and_decode": timed(lambda: served.decode(served.prior_latents(n, 0)), repeats),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--models", type=Path, default=ROOT / "models")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "prior.json")
    args = p.parse_args()
    results = {}
    for manifest in sorted(args.models.glob("*/manifest.json")):
        row = bench_model(manifest.parent, args.n, args.repeats)
        if row is not None:
            results[manifest.parent.name] = row
            print(manifest.parent.name, json.dumps(row))
    args.out.write_text(json.dumps({"n": args.n, "threads": 1, "models": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

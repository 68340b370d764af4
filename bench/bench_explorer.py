"""/embeddings as JSON vs Apache Arrow, and the explorer's 3-D plot at 70,000 points, measured
in headless Chromium (the same browser set-up as tests/test_explorer_browser.py) against a
uvicorn serving models/ on 127.0.0.1.

    uv run python -m bench.bench_explorer --models mlp3d mlp32 [--repeat 5] [--frames 60]

Prints one JSON object: per model and split, body sizes (plain and gzip), the page's parse
time of each body (fetched first, so only decoding is timed: JSON.parse plus conversion to
the plot's typed columns, vs tableFromIPC plus column access), the plot's draw time, and
frame times while the 3-D camera orbits (WebGL in SwiftShader: software rendering on the CPU,
so an upper bound for any machine with a GPU).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
from pathlib import Path
from typing import Any

import httpx

from harness.browser import chromium, wait_for
from harness.served import uvicorn_thread
from service.config import Settings

PARSE_JS = """
const [url, format, repeat, done] = arguments;
const { fromArrow, fromJSON } = await import('/static/js/embeddings.js');
const r = await fetch(url);
const body = format === 'arrow' ? new Uint8Array(await r.arrayBuffer()) : await r.text();
const times = [];
let count = 0;
for (let k = 0; k < repeat; k++) {
  const t0 = performance.now();
  const emb = format === 'arrow' ? fromArrow(body) : fromJSON(JSON.parse(body));
  count = emb.x.length;
  times.push(performance.now() - t0);
}
done({ times, count });
"""

ORBIT_JS = """
const [frames, done] = arguments;
const gd = document.getElementById('plot');
const times = [];
let last = performance.now();
for (let k = 0; k < frames; k++) {
  const a = (2 * Math.PI * k) / frames;
  const eye = { x: 1.8 * Math.cos(a), y: 1.8 * Math.sin(a), z: 0.8 };
  await window.Plotly.relayout(gd, { 'scene.camera.eye': eye });
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const now = performance.now();
  times.push(now - last);
  last = now;
}
done(times);
"""


def sizes(base: str, model: str, split: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fmt in ("json", "arrow"):
        r = httpx.get(
            f"{base}/embeddings?model={model}&split={split}&format={fmt}",
            headers={"Accept-Encoding": "identity"},
            timeout=120,
        )
        r.raise_for_status()
        out[fmt] = {"bytes": len(r.content), "gzip_bytes": len(gzip.compress(r.content, 6))}
        if fmt == "json":
            out["points"] = r.json()["count"]
    return out


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
    }


def measure(driver: Any, base: str, model: str, split: str, args: argparse.Namespace) -> dict:
    result: dict[str, Any] = {"sizes": sizes(base, model, split), "parse": {}}
    driver.get(f"{base}/?model={model}")
    wait_for(driver, "document.body.dataset.ready === 'true'", timeout=300)
    for fmt in ("json", "arrow"):
        url = f"/embeddings?model={model}&split={split}&format={fmt}"
        got = driver.execute_async_script(
            f"(async () => {{ {PARSE_JS} }})()", url, fmt, args.repeat
        )
        result["parse"][fmt] = summary(got["times"])
    driver.execute_script(
        "const s = document.getElementById('split'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('change'));",
        split,
    )
    wait_for(driver, f"document.getElementById('status').textContent.includes('{split} points, D')",
             timeout=600)  # fmt: skip
    plot = driver.find_element("id", "plot")
    result["page"] = {
        "points_plotted": int(plot.get_attribute("data-points")),
        "load_ms": int(plot.get_attribute("data-load-ms")),
        "draw_ms": int(plot.get_attribute("data-draw-ms")),
    }
    frames = driver.execute_async_script(f"(async () => {{ {ORBIT_JS} }})()", args.frames)
    result["frames"] = summary(frames[1:])
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model-dir", default="models")
    p.add_argument("--models", nargs="+", default=["mlp3d", "mlp32"])
    p.add_argument("--splits", nargs="+", default=["test", "all"])
    p.add_argument("--repeat", type=int, default=5, help="parses of each body")
    p.add_argument("--frames", type=int, default=40, help="camera steps in the orbit")
    args = p.parse_args()
    settings = Settings(_env_file=None, model_dir=Path(args.model_dir))  # type: ignore[call-arg]
    with uvicorn_thread(settings) as base, chromium(script_timeout=600) as driver:
        report = {
            f"{model}/{split}": measure(driver, base, model, split, args)
            for model in args.models
            for split in args.splits
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

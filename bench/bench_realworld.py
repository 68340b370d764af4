"""Photos of handwritten digits vs clean MNIST digits, through the service: 5-nearest-neighbour
label accuracy of the latents /encode returns, against each model's stored test embeddings.

The clean digits are the committed MNIST test sample as 28x28 PNGs; the variants are the same
digits photographed by scripts/realworld_digits.py (dark ink on light paper, 200-1000 px, off
centre and small, uneven lighting, noise, JPEG; four pens). Every image goes through the real
app (service.http.app.create_app over the committed models, driven by httpx through Starlette's
TestClient, several `file` parts per request), once with today's preprocessing
(service/images/preprocess.py) and once with the one before it (OLD below, service/images.py
at d587a59). A digit's own row in the stored embeddings is left out of its neighbours.

    uv run python -m bench.bench_realworld --count 100

Results: bench/results/realworld.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from harness.realworld_digits import PENS, load_sample, make_variants
from harness.served import app_over
from service.images.codec import to_png

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
RESULTS = ROOT / "bench" / "results" / "realworld.json"
BATCH = 32  # `file` parts per /encode request
K = 5


def old_mnist_like(gray: np.ndarray, invert: bool | None) -> np.ndarray:
    """The preprocessing before service/images/preprocess.py (service/images.py at d587a59):
    the border's median is the background, every pixel brighter than it is ink."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    if invert is None:
        invert = background > 0.5
    if invert:
        gray, background = 1.0 - gray, 1.0 - background
    peak = float(gray.max())
    if peak - background < 1e-3:
        return np.zeros((28, 28), np.float32)
    ink = np.clip((gray - background) / (peak - background), 0.0, 1.0)
    rows, cols = np.flatnonzero((ink > 0.1).any(1)), np.flatnonzero((ink > 0.1).any(0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    size = (max(1, round(w * 20 / max(h, w))), max(1, round(h * 20 / max(h, w))))
    img = Image.fromarray(np.ascontiguousarray(crop, dtype=np.float32))
    patch = np.clip(
        np.asarray(img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0), np.float32), 0, 1
    )
    from service.images.preprocess import centre  # unchanged: MNIST's centre-of-mass placement

    return centre(patch)


@contextmanager
def service(models: list[str], old: bool = False) -> Iterator[TestClient]:
    """The app over just these committed models; old=True swaps in the old preprocessing."""
    with app_over(MODELS, models) as client:
        if not old:
            yield client
            return
        with mock.patch("service.images.inputs.mnist_like", old_mnist_like):
            yield client


def encode(client: TestClient, model: str, images: list[bytes]) -> np.ndarray:
    """Latents of the images, BATCH files per multipart request."""
    out = []
    for start in range(0, len(images), BATCH):
        parts = [
            ("file", (f"{i}.img", data, "application/octet-stream"))
            for i, data in enumerate(images[start : start + BATCH])
        ]
        r = client.post(f"/encode?model={model}", files=parts)
        r.raise_for_status()
        body = r.json()
        out.extend(body["latents"] if "latents" in body else [body["latent"]])
    return np.asarray(out, np.float32)


def knn_accuracy(model: str, latents: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> float:
    """Share of latents whose 5 nearest stored test embeddings vote their label (own row out)."""
    with np.load(MODELS / model / "embeddings.npz") as f:
        stored, stored_labels, index = f["latents"], f["labels"], f["index"]
    d = ((latents[:, None, :] - stored[None, :, :]) ** 2).sum(-1)
    d[index[None, :] == rows[:, None]] = np.inf  # a clean digit is not its own neighbour
    nearest = np.argsort(d, axis=1)[:, :K]
    votes = np.array([np.bincount(stored_labels[n], minlength=10).argmax() for n in nearest])
    return float((votes == labels).mean())


def measure(models: list[str], count: int, pens: list[str], seed: int) -> dict[str, Any]:
    images, labels = load_sample()
    rows = np.arange(count)
    clean = [to_png(images[r][None].astype(np.float32) / 255.0) for r in rows]  # (1, 28, 28)
    variants = {pen: make_variants(images, labels, rows, pen, seed) for pen in pens}
    result: dict[str, Any] = {"count": count, "pens": pens, "seed": seed, "models": {}}
    for model in models:
        entry: dict[str, Any] = {}
        for label, old in (("new", False), ("old", True)):
            with service(models, old) as client:
                z_clean = encode(client, model, clean)
                row = {"clean": knn_accuracy(model, z_clean, labels[rows], rows)}
                for pen, vs in variants.items():
                    z = encode(client, model, [v.jpeg for v in vs])
                    row[pen] = knn_accuracy(model, z, labels[rows], rows)
                row["variants"] = float(np.mean([row[p] for p in pens]))
                entry[label] = row
        result["models"][model] = entry
    return result


def calibrate() -> dict[str, float]:
    """MNIST's stroke width as a share of the ink box's longer side, measured the way step 8
    of service/images/preprocess.py measures it: each committed sample digit rendered at 12x, its
    ink box scaled to STROKE_SIDE px, the width of its core (> 0.5)."""
    from harness.realworld_digits import upscale
    from service.images.preprocess import _INK, STROKE_SIDE, _fit, stroke_width

    images, _ = load_sample()
    shares = []
    for digit in images:
        ink = upscale(digit)
        rows, cols = np.flatnonzero((ink > _INK).any(1)), np.flatnonzero((ink > _INK).any(0))
        box = _fit(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], STROKE_SIDE)
        shares.append(stroke_width(box > 0.5) / max(box.shape))
    p5, p50, p95 = np.percentile(shares, [5, 50, 95])
    return {"p5": float(p5), "median": float(p50), "p95": float(p95)}


def table(result: dict[str, Any]) -> str:
    pens = result["pens"]
    head = ["model", "preprocessing", "clean", "all photos", *[f"{p} pen" for p in pens]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model, entry in result["models"].items():
        for label in ("old", "new"):
            r = entry[label]
            cells = [model, label, *(f"{100 * r[k]:.1f}" for k in ["clean", "variants", *pens])]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100, help="digits (photos per pen)")
    parser.add_argument("--models", default="conv32,mlp32")
    parser.add_argument("--pens", default=",".join(PENS))
    parser.add_argument("--seed", type=int, default=1)  # the fixture uses seed 0
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--calibrate", action="store_true", help="print MNIST's stroke band (step 8) and stop"
    )
    args = parser.parse_args(argv)
    if args.calibrate:
        print(json.dumps(calibrate(), indent=2))
        return
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # not a line per request
    logging.getLogger("httpx").setLevel(logging.WARNING)
    result = measure(args.models.split(","), args.count, args.pens.split(","), args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))


if __name__ == "__main__":
    main()

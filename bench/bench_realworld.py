"""Photos of handwritten digits vs clean MNIST digits, through the service: 5-nearest-neighbour
label accuracy of the latents /encode returns, against each model's stored test embeddings.

The clean digits are the committed MNIST test sample as 28x28 PNGs; the variants are the same
digits photographed by scripts/realworld_digits.py (dark ink on light paper, 200-1000 px, off
centre and small, uneven lighting, noise, JPEG; four pens), cut to their ink box, drawn on a
canvas they fill, or scanned small and upscaled (harness.realworld_digits.CROPS), and "uci":
real handwritten digits from another source (scikit-learn's copy of the UCI optical digits,
8x8). Every image goes through the real app (service.http.app.create_app over the committed
models, driven by httpx through Starlette's TestClient, several `file` parts per request);
with --old also once with the preprocessing before issue 10 (OLD below, service/images.py at
d587a59). A digit's own row in the stored embeddings is left out of its neighbours; an image
answered 422 no_digit counts as wrong.

    uv run python -m bench.bench_realworld --count 100

Results: bench/results/realworld.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from harness.realworld_digits import (
    CROPS,
    PENS,
    Variant,
    load_sample,
    make_crops,
    make_variants,
    uci_digits,
)
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
    """The app over just these committed models; old=True swaps in the old preprocessing
    (patched in this process, so the image pool runs in the handler's threads:
    LATENTLAB_IMAGE_WORKERS=0). Accuracy is measured here, not overload: the pool runs at
    normal priority and an upload may take its time, however busy the machine."""
    env = {"LATENTLAB_IMAGE_NICE": "0", "LATENTLAB_REQUEST_TIMEOUT_S": "300"}
    if old:
        env["LATENTLAB_IMAGE_WORKERS"] = "0"
    with mock.patch.dict(os.environ, env), app_over(MODELS, models) as client:
        if not old:
            yield client
            return
        with mock.patch("service.images.inputs.mnist_like", old_mnist_like):
            yield client


def encode(client: TestClient, model: str, images: list[bytes]) -> np.ndarray:
    """Latents of the images, BATCH files per multipart request; a batch refused with 422
    no_digit is sent again one image at a time, and each image without a digit gets a row
    of NaN (counted as wrong by knn_accuracy)."""
    out: list[Any] = []
    for start in range(0, len(images), BATCH):
        chunk = images[start : start + BATCH]
        r = _post(client, model, chunk)
        if r.status_code == 422 and r.json()["error"]["code"] == "no_digit":
            out.extend(_one_by_one(client, model, chunk))
            continue
        r.raise_for_status()
        body = r.json()
        out.extend(body["latents"] if "latents" in body else [body["latent"]])
    return np.asarray(out, np.float32)


def _post(client: TestClient, model: str, images: list[bytes]) -> Any:
    parts = [("file", (f"{i}.img", d, "application/octet-stream")) for i, d in enumerate(images)]
    return client.post(f"/encode?model={model}", files=parts)


def _one_by_one(client: TestClient, model: str, images: list[bytes]) -> list[Any]:
    rows: list[Any] = []
    for data in images:
        r = _post(client, model, [data])
        if r.status_code == 422 and r.json()["error"]["code"] == "no_digit":
            rows.append(None)
            continue
        r.raise_for_status()
        rows.append(r.json()["latent"])
    dim = len(next((row for row in rows if row is not None), [0.0]))
    return [row if row is not None else [float("nan")] * dim for row in rows]


def knn_accuracy(model: str, latents: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> float:
    """Share of latents whose 5 nearest stored test embeddings vote their label (own row out)."""
    with np.load(MODELS / model / "embeddings.npz") as f:
        stored, stored_labels, index = f["latents"], f["labels"], f["index"]
    d = ((latents[:, None, :] - stored[None, :, :]) ** 2).sum(-1)
    d[np.isnan(d)] = np.inf  # no digit found: no neighbours, and no vote for its label
    d[index[None, :] == rows[:, None]] = np.inf  # a clean digit is not its own neighbour
    nearest = np.argsort(d, axis=1)[:, :K]
    votes = np.array([np.bincount(stored_labels[n], minlength=10).argmax() for n in nearest])
    found = ~np.isnan(latents).any(1)
    return float(((votes == labels) & found).mean())


def variants_of(kind: str, rows: np.ndarray, seed: int) -> list[Variant]:
    """The images of one kind: a pen's photos, one of CROPS, or "uci" (real digits)."""
    images, labels = load_sample()
    if kind == "uci":
        return uci_digits(len(rows))
    if kind in CROPS:
        return make_crops(images, labels, rows, kind, seed)
    return make_variants(images, labels, rows, kind, seed)


def measure(
    models: list[str], count: int, kinds: list[str], seed: int, old: bool = False
) -> dict[str, Any]:
    images, labels = load_sample()
    rows = np.arange(count)
    clean = [to_png(images[r][None].astype(np.float32) / 255.0) for r in rows]  # (1, 28, 28)
    variants = {kind: variants_of(kind, rows, seed) for kind in kinds}
    result: dict[str, Any] = {"count": count, "kinds": kinds, "seed": seed, "models": {}}
    for model in models:
        entry: dict[str, Any] = {}
        for label, use_old in (("new", False), ("old", True)) if old else (("new", False),):
            with service(models, use_old) as client:
                z_clean = encode(client, model, clean)
                row = {"clean": knn_accuracy(model, z_clean, labels[rows], rows)}
                for kind, vs in variants.items():
                    z = encode(client, model, [v.data for v in vs])
                    truth = np.array([v.label for v in vs])
                    row[kind] = knn_accuracy(model, z, truth, np.array([v.source for v in vs]))
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
    """One row per model and kind: accuracy, and points below the clean digits."""
    lines = ["| model | preprocessing | kind | 5-NN accuracy | vs clean |", "|---|---|---|---|---|"]
    for model, entry in result["models"].items():
        for label, r in entry.items():
            for kind in ["clean", *result["kinds"]]:
                gap = 100 * (r[kind] - r["clean"])
                lines.append(
                    f"| {model} | {label} | {kind} | {100 * r[kind]:.1f} | "
                    f"{'' if kind == 'clean' else f'{gap:+.1f}'} |"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100, help="digits (photos per pen)")
    parser.add_argument("--models", default="conv32,mlp32")
    parser.add_argument(
        "--kinds", default=",".join([*PENS, *CROPS, "uci"]), help="pens, crops and/or uci"
    )
    parser.add_argument("--old", action="store_true", help="also the pre-issue-10 preprocessing")
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
    result = measure(args.models.split(","), args.count, args.kinds.split(","), args.seed, args.old)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))


if __name__ == "__main__":
    main()

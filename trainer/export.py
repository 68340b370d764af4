"""Write a model folder: TorchScript, manifest, embeddings. Atomic: temp folder, then rename."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

FORMAT_VERSION = 1
MAX_RAW_LATENT_DIM = 256  # wider latents (convbn: 1568) would make embeddings.npz ~60 MB


@contextlib.contextmanager
def staging_folder(out: Path, name: str) -> Iterator[Path]:
    """A fresh `out/.tmp-<name>-<pid>` that becomes a model version only if the block
    succeeds; Ctrl-C or a crash removes it, so a half-written model folder never appears.

    Nothing is replaced (docs/model-format.md, versions): a new name becomes the flat folder
    `out/<name>` (version 1); when `out/<name>` exists the new model becomes its next
    numbered version `out/<name>/<N+1>`, and a flat folder is first moved to `out/<name>/1`."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.rename(next_version_path(out / name))


def next_version_path(model: Path) -> Path:
    """Where the next version of `model` goes (see staging_folder)."""
    if not model.exists():
        return model
    if (model / "manifest.json").is_file():  # today's flat layout: it becomes version 1
        flat = model.parent / f".flat-{model.name}-{os.getpid()}"
        model.rename(flat)
        model.mkdir()
        flat.rename(model / "1")
    numbered = [int(p.name) for p in model.iterdir() if p.is_dir() and p.name.isdigit()]
    return model / str(max(numbered, default=0) + 1)


def save_torchscript(model: nn.Module, path: Path, probe: torch.Tensor) -> None:
    """Script the eval-mode CPU model, save it, reload it and check it against eager.
    Parameters are frozen in the file, so callers get plain tensors back, not autograd ones."""
    eager = copy.deepcopy(model).cpu().eval().requires_grad_(False)
    torch.jit.script(eager).save(str(path))
    loaded = torch.jit.load(str(path), map_location="cpu")
    with torch.no_grad():
        z = eager.encode(probe)  # type: ignore[operator]
        checks = {
            "encode": (loaded.encode(probe), z),
            "decode": (loaded.decode(z), eager.decode(z)),  # type: ignore[operator]
            "forward": (loaded(probe), eager(probe)),
        }
    for verb, (got, want) in checks.items():
        if not torch.allclose(got, want, atol=1e-6):
            raise RuntimeError(f"TorchScript {verb} differs from eager for {path}")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fit_prior(train_z: torch.Tensor, standard_normal: bool) -> dict[str, Any]:
    """The sampling prior: N(0, I) for the VAE, else a Gaussian fitted to the train latents
    (full covariance up to 256-D, diagonal beyond); plus the train latents' bounding box."""
    z = train_z.double()
    low, high = z.min(0).values, z.max(0).values
    if standard_normal:
        mean, std, tril = torch.zeros(z.shape[1]), torch.ones(z.shape[1]), None
    else:
        mean, std = z.mean(0), z.std(0)
        tril = None
        if z.shape[1] <= MAX_RAW_LATENT_DIM:
            cov = torch.cov(z.T) + 1e-6 * torch.eye(z.shape[1], dtype=z.dtype)
            tril = torch.linalg.cholesky(cov).tolist()
    return {
        "kind": "standard_normal" if standard_normal else "gaussian",
        "mean": mean.tolist(),
        "std": std.tolist(),
        "scale_tril": tril,
        "low": low.tolist(),
        "high": high.tolist(),
    }


def save_embeddings(
    path: Path,
    latents: np.ndarray,
    labels: np.ndarray,
    projection: tuple[np.ndarray, np.ndarray],
    tsne2d: np.ndarray,
) -> dict[str, Any]:
    """embeddings.npz of the whole test split; returns its manifest entry. `projection` is
    the (mean (D,), axes (D, 3)) map to the 3-D view: view3d = (z - mean) @ axes."""
    mean, axes = projection
    view3d = (latents - mean) @ axes
    arrays = {
        "labels": labels.astype(np.int64),
        "index": np.arange(len(labels), dtype=np.int64),
        "view3d": view3d.astype(np.float32),
        "tsne2d": tsne2d.astype(np.float32),
    }
    has_latents = latents.shape[1] <= MAX_RAW_LATENT_DIM
    if has_latents:
        arrays["latents"] = latents.astype(np.float32)
    np.savez_compressed(path, **arrays)
    return {
        "file": path.name,
        "split": "test",
        "count": len(labels),
        "view3d": "latent" if latents.shape[1] == 3 else "pca",
        "projection": {"mean": mean.tolist(), "axes": axes.tolist()},
        "has_latents": has_latents,
        "tsne": True,
    }


_NUMBER_LIST = re.compile(r"\[\s+(-?[\d.eE+-]+(?:,\s+-?[\d.eE+-]+)*)\s+\]")


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """manifest.json indented for reading, but each list of numbers on one line: ten 32x32
    Cholesky factors one number a line would take 300 KB. Written atomically."""
    text = json.dumps(manifest, indent=2, allow_nan=False)
    text = _NUMBER_LIST.sub(lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text + "\n")
    tmp.replace(path)

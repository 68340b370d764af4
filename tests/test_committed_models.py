"""The models committed under models/: each loads, matches its hash, and reconstructs a
committed sample of real test images as well as its manifest claims."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

MODELS = Path(__file__).parent.parent / "models"
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = {"mnist": "mnist_test_sample.npz", "fashion-mnist": "fashion_mnist_test_sample.npz"}
FOLDERS = sorted(p.parent for p in MODELS.glob("*/manifest.json") if p.parent.name[0] not in "._")


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text())


def test_the_default_zoo_is_committed() -> None:
    names = {f.name for f in FOLDERS}
    assert {"mlp3d", "mlp32", "conv32", "convbn", "mlp128", "vae"} <= names


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_sha256_matches_manifest(folder: Path) -> None:
    digest = hashlib.sha256((folder / "model.pt").read_bytes()).hexdigest()
    assert digest == manifest(folder)["model_sha256"]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
@torch.no_grad()
def test_reconstructions_reach_the_claimed_mse(folder: Path) -> None:
    m = manifest(folder)
    with np.load(FIXTURES / SAMPLES[m["dataset"]["name"]]) as f:
        x = torch.from_numpy(f["images"]).float().div(255).unsqueeze(1)
    model = torch.jit.load(str(folder / "model.pt"), map_location="cpu")
    z = model.encode(x)
    assert z.shape == (len(x), m["latent_dim"])
    mse = float(((model.decode(z) - x) ** 2).mean())
    # The sample is the first 1,000 of the 10,000 test images the manifest was measured on.
    assert mse <= m["metrics"]["test_mse"] * 1.15 + 1e-4, (mse, m["metrics"]["test_mse"])


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_embeddings_match_manifest(folder: Path) -> None:
    m = manifest(folder)
    with np.load(folder / m["embeddings"]["file"]) as e:
        assert e["labels"].shape == (m["embeddings"]["count"],)
        assert e["view3d"].shape == (m["embeddings"]["count"], 3)
        assert ("latents" in e.files) == m["embeddings"]["has_latents"]
    for picture in m["report"]:
        assert (folder / "report" / picture).is_file(), picture

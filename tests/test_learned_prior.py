"""The learned latent prior: the trainer's flow-matching net learns where the latents are
(clusters, not the gaps a single Gaussian fills), its ONNX file gives the service's NumPy
sampler the trainer's latents, and /sample?prior=... serves it with our 422s."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from harness.fixture_models import FIXTURE_MODELS
from service.repository.learned_prior import LearnedPrior
from service.repository.manifest import LearnedPriorSpec
from trainer.flow_prior import FlowPriorConfig, export_onnx, fit_flow_prior, manifest_entry
from trainer.flow_prior import sample as flow_sample

JSON = {"Accept": "application/json"}
CENTRES = torch.tensor([[-6.0, 0.0], [6.0, 0.0], [0.0, 8.0]])


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """A flow prior fitted on three tight 2-D clusters, and prior.onnx written for it."""
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(3).repeat_interleave(1000)
    z = CENTRES[labels] + 0.4 * torch.randn(len(labels), 2, generator=gen)
    cfg = FlowPriorConfig(hidden=64, blocks=2, train_steps=600, batch_size=256, steps=8)
    prior = fit_flow_prior(z, labels, 3, cfg)
    folder = tmp_path_factory.mktemp("prior")
    entry = manifest_entry(prior, export_onnx(prior, folder), "0" * 64)
    return prior, folder, entry


def test_samples_land_in_the_clusters_and_on_the_asked_label(fitted: tuple) -> None:
    prior, _, _ = fitted
    noise = torch.randn(900, 2, generator=torch.Generator().manual_seed(1))
    free = flow_sample(prior, noise, None, steps=8, guidance=1.0)
    nearest = torch.cdist(free, CENTRES).min(1).values
    # One Gaussian over the three clusters puts most draws more than 2 from every centre.
    assert float((nearest < 2.0).float().mean()) > 0.9
    asked = torch.tensor([2] * 900)
    conditional = flow_sample(prior, noise, asked, steps=8, guidance=2.0)
    assert float((torch.cdist(conditional, CENTRES).argmin(1) == 2).float().mean()) > 0.95


def test_service_sampler_on_onnx_gives_the_trainers_latents(fitted: tuple) -> None:
    prior, folder, entry = fitted
    served = LearnedPrior.load(folder / "prior.onnx", LearnedPriorSpec(**entry), threads=1)
    rng = np.random.default_rng(5)
    labels = np.array([0, 1, 2, 1], np.int64)
    got = served.sample(4, rng, labels, steps=6, guidance=1.5)
    noise = torch.from_numpy(np.random.default_rng(5).standard_normal((4, 2), dtype=np.float32))
    want = flow_sample(prior, noise, torch.from_numpy(labels), steps=6, guidance=1.5)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("model", FIXTURE_MODELS)
def test_learned_prior_is_served_on_request_and_reproducible(
    client: TestClient, model: str
) -> None:
    url = f"/sample?model={model}&prior=learned&n=6&seed=3"
    r = client.get(url, headers=JSON)
    assert r.status_code == 200, r.text
    assert r.json()["prior"] == "learned"
    assert client.get(url, headers=JSON).json()["latents"] == r.json()["latents"]
    gaussian = client.get(f"/sample?model={model}&prior=gaussian&n=6&seed=3", headers=JSON)
    assert gaussian.json()["prior"] == "gaussian"
    assert gaussian.json()["latents"] != r.json()["latents"]
    # The fixture's prior was never measured (no classifier), so auto keeps the Gaussian.
    auto = client.get(f"/sample?model={model}&n=6&seed=3")
    assert auto.status_code == 200 and auto.headers["x-prior"] == "gaussian"
    labelled = client.get(url + "&label=7&steps=3&guidance=1.5", headers=JSON)
    assert labelled.status_code == 200 and labelled.json()["labels"] == ["7"] * 6


def test_bad_prior_requests_are_422_with_what_is_allowed(client: TestClient) -> None:
    r = client.get("/sample?prior=learned&steps=65")
    assert r.status_code == 422 and r.json()["error"]["code"] == "steps_cap"
    assert "64 (LATENTLAB_MAX_SAMPLE_STEPS)" in r.json()["error"]["message"]
    r = client.get("/sample?prior=learned&label=eleven")
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_label"
    assert "0=0" in r.json()["error"]["message"]
    r = client.get("/sample?prior=flow")
    assert r.status_code == 422, r.text
    assert "learned" in r.text and "gaussian" in r.text
    r = client.get("/sample?prior=learned&label=3&guidance=11")
    assert r.status_code == 422 and r.json()["error"]["code"] == "guidance_cap"


def test_folder_without_a_learned_prior_keeps_the_gaussian(
    models_dir: Path, tmp_path: Path, make_client: Callable[..., TestClient]
) -> None:
    folder = tmp_path / "plain"
    shutil.copytree(models_dir / "mlp3d", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["learned_prior"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "prior.onnx").unlink()
    client = make_client(model_dir=tmp_path, default_model="plain")
    r = client.get("/sample?n=4")
    assert r.status_code == 200 and r.headers["x-prior"] == "gaussian"
    r = client.get("/sample?prior=learned")
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_learned_prior"
    assert "prior=gaussian" in r.json()["error"]["message"]


def test_a_preferred_learned_prior_is_the_default(
    models_dir: Path, tmp_path: Path, make_client: Callable[..., TestClient]
) -> None:
    folder = tmp_path / "better"
    shutil.copytree(models_dir / "conv32", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["learned_prior"]["preferred"] = True
    (folder / "manifest.json").write_text(json.dumps(manifest))
    client = make_client(model_dir=tmp_path, default_model="better")
    assert client.get("/sample?n=4").headers["x-prior"] == "learned"
    assert client.get("/sample?n=4&prior=gaussian").headers["x-prior"] == "gaussian"

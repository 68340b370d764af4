"""/sample?label=...: draws from per-label priors land on the requested label; label names
or numbers; unknown labels and folders without label priors say what to do."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.neighbors import KNeighborsClassifier

from harness.fixture_models import FIXTURE_MODELS, SAMPLE
from service.repository.priors import LabelPriors
from service.repository.registry import load_model

JSON = {"Accept": "application/json"}
# Share of conditional samples the judge below assigns to the asked-for label; chance is 0.1.
# The fixture models saw 700 digits for seconds. Measured: conv32 0.86; mlp3d 0.37, near its
# own ceiling (the judge reads only 45% of mlp3d's test reconstructions as the right digit).
FLOORS = {"conv32": 0.6, "mlp3d": 0.25}


@pytest.fixture(scope="module")
def judge() -> KNeighborsClassifier:
    """A pixel-space 5-NN fit on the fixture models' train + validation digits."""
    with np.load(SAMPLE) as f:
        images, labels = f["images"][:-200].astype(np.float32) / 255.0, f["labels"][:-200]
    return KNeighborsClassifier(5).fit(images.reshape(len(images), -1), labels)


@pytest.mark.parametrize("model", FIXTURE_MODELS)
def test_conditional_samples_land_on_the_requested_label(
    client: TestClient, judge: KNeighborsClassifier, model: str
) -> None:
    hits = []
    for label in range(10):
        r = client.get(f"/sample?model={model}&label={label}&n=32&seed={label}", headers=JSON)
        assert r.status_code == 200, r.text
        assert r.json()["labels"] == [str(label)] * 32
        pixels = np.array(r.json()["pixels"]).reshape(32, -1)
        hits.append((judge.predict(pixels) == label).mean())
    assert np.mean(hits) >= FLOORS[model], hits


def test_a_list_of_labels_cycles_and_is_reproducible(client: TestClient) -> None:
    r = client.get("/sample?label=3,7&n=5&seed=11", headers=JSON)
    assert r.status_code == 200, r.text
    assert r.json()["labels"] == ["3", "7", "3", "7", "3"]
    repeated = client.get("/sample?label=3&label=7&n=5&seed=11", headers=JSON)
    assert repeated.json() == r.json()
    png = client.get("/sample?label=3,7&n=5&seed=11")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.headers["x-seed"] == "11"


def test_unknown_label_is_422_listing_the_labels(client: TestClient) -> None:
    r = client.get("/sample?label=eleven")
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "unknown_label"
    assert all(part in error["message"] for part in ("'eleven'", "0=0", "9=9"))
    assert client.get("/sample?label=10").status_code == 422
    assert client.get("/sample?label=,").json()["error"]["code"] == "unknown_label"


def test_fashion_labels_by_name_or_number() -> None:
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip
    priors = LabelPriors(names, np.full(10, 0.1), np.zeros((10, 2), np.float32),
                         np.ones((10, 2), np.float32), None)  # fmt: skip
    assert priors.resolve(["Sneaker"]).tolist() == [7]
    assert priors.resolve(["sneaker,7", "Ankle boot", "t-shirt/top"]).tolist() == [7, 7, 9, 0]


def _copy(models_dir: Path, tmp_path: Path, edit: Callable[[dict], None]) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(models_dir / "mlp3d", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    edit(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_folder_from_before_label_priors_still_serves(
    models_dir: Path, tmp_path: Path, make_client: Callable[..., TestClient]
) -> None:
    def strip(m: dict) -> None:
        del m["label_priors"], m["embeddings"]["splits"]

    folder = _copy(models_dir, tmp_path, strip)
    (folder / "embeddings-train.npz").unlink()
    client = make_client(model_dir=tmp_path, default_model="copy")
    assert client.get("/sample?n=4").status_code == 200
    r = client.get("/sample?label=1")
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_label_priors"
    assert "trainer refresh" in r.json()["error"]["message"]
    r = client.get("/embeddings?split=train")
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_split"
    assert client.get("/embeddings?split=test").status_code == 200


def test_mixture_prior_draws_labels_by_weight(models_dir: Path, tmp_path: Path) -> None:
    def mix(m: dict) -> None:
        m["prior"]["mixture"] = "label_priors"

    served = load_model(_copy(models_dir, tmp_path, mix))
    priors = served.label_priors
    assert priors is not None
    z = served.prior_latents(20_000, seed=0)
    want = priors.weights @ priors.means  # the mixture's mean
    np.testing.assert_allclose(z.mean(0), want, atol=0.1 * float(np.abs(priors.means).max()))
    # Each draw sits near one label's mean, not in the gaps a single Gaussian would fill.
    nearest = np.linalg.norm(z[:, None] - priors.means[None], axis=2).min(1)
    assert np.median(nearest) < np.median(np.linalg.norm(z - want, axis=1))


def test_manifest_with_mismatched_label_priors_is_skipped(
    models_dir: Path, tmp_path: Path, make_client: Callable[..., TestClient]
) -> None:
    def break_it(m: dict) -> None:
        m["label_priors"]["labels"][3]["mean"] = [0.0]

    _copy(models_dir, tmp_path, break_it)
    r = make_client(model_dir=tmp_path).get("/readyz")
    assert "label_priors" in r.json()["failed"]["copy"]

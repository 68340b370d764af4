"""Latents in: /decode and /sample."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import open_png
from fastapi.testclient import TestClient

JSON = {"Accept": "application/json"}


@pytest.mark.parametrize(("scale", "size"), [(1, 28), (3, 84), (16, 448)])
def test_decode_png(client: TestClient, scale: int, size: int) -> None:
    r = client.post(f"/decode?scale={scale}", json={"latent": [0.5, -1.0, 2.0]})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    img = open_png(r.content)
    assert (img.size, img.mode) == ((size, size), "L")


def test_scale_is_nearest_neighbour(client: TestClient) -> None:
    z = {"latent": [0.5, -1.0, 2.0]}
    small = np.asarray(open_png(client.post("/decode", json=z).content))
    big = np.asarray(open_png(client.post("/decode?scale=2", json=z).content))
    assert np.array_equal(big[::2, ::2], small)


@pytest.mark.parametrize(("n", "grid"), [(2, (56, 28)), (4, (56, 56)), (10, (112, 84))])
def test_decode_batch_is_one_grid_png(client: TestClient, n: int, grid) -> None:
    r = client.post("/decode", json={"latents": [[0.1 * i, 0.0, 1.0] for i in range(n)]})
    assert r.status_code == 200, r.text
    assert open_png(r.content).size == grid  # (width, height)


def test_decode_json_pixels(client: TestClient) -> None:
    r = client.post("/decode", json={"latent": [0.5, -1.0, 2.0]}, headers=JSON)
    assert r.status_code == 200, r.text
    pixels = np.array(r.json()["pixels"])
    assert pixels.shape == (28, 28)
    assert pixels.min() >= 0.0 and pixels.max() <= 1.0
    png = np.asarray(open_png(client.post("/decode", json={"latent": [0.5, -1.0, 2.0]}).content))
    assert np.abs(png / 255.0 - pixels).max() < 0.01  # PNG and JSON are the same image


def test_decode_json_batch(client: TestClient) -> None:
    r = client.post("/decode", json={"latents": [[0.0] * 32] * 3}, params={"model": "conv32"},
                    headers=JSON)  # fmt: skip
    assert r.status_code == 200, r.text
    assert np.array(r.json()["pixels"]).shape == (3, 28, 28)


@pytest.mark.parametrize("model", ["mlp3d", "conv32"])
def test_encode_then_decode_reconstructs_real_digits(client: TestClient, digits, model) -> None:
    xs = digits[0][:16]
    r = client.post(f"/encode?model={model}", json={"pixels": xs.tolist()})
    assert r.status_code == 200, r.text
    r = client.post(f"/decode?model={model}", json={"latents": r.json()["latents"]}, headers=JSON)
    assert r.status_code == 200, r.text
    mse = ((np.array(r.json()["pixels"]) - xs) ** 2).mean()
    baseline = ((xs - xs.mean(0)) ** 2).mean()  # what guessing the average digit scores
    assert mse < {"mlp3d": 0.06, "conv32": 0.035}[model]
    assert mse < baseline


def test_sample_png_grid(client: TestClient) -> None:
    r = client.get("/sample?n=16&seed=7")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-seed"] == "7"
    assert open_png(r.content).size == (4 * 28, 4 * 28)


@pytest.mark.parametrize("model", ["mlp3d", "conv32"])
def test_sample_is_deterministic_per_seed(client: TestClient, model: str) -> None:
    def get(seed: int) -> dict:
        r = client.get(f"/sample?model={model}&n=5&seed={seed}", headers=JSON)
        assert r.status_code == 200, r.text
        return r.json()

    a, b, c = get(7), get(7), get(8)
    assert a == b
    assert a["latents"] != c["latents"] and a["pixels"] != c["pixels"]
    assert np.array(a["latents"]).shape == (5, 32 if model == "conv32" else 3)
    assert np.array(a["pixels"]).shape == (5, 28, 28)
    png = client.get(f"/sample?model={model}&n=5&seed=7").content
    assert png == client.get(f"/sample?model={model}&n=5&seed=7").content


def test_sample_follows_the_prior(client: TestClient, models_dir) -> None:
    prior = json.loads((models_dir / "mlp3d" / "manifest.json").read_text())["prior"]
    r = client.get("/sample?n=64&seed=1", headers=JSON)
    z = np.array(r.json()["latents"])
    assert np.allclose(z.mean(0), prior["mean"], atol=4 * np.array(prior["std"]) / 8 + 1e-3)


def test_sample_without_seed_reports_the_seed_it_used(client: TestClient) -> None:
    r = client.get("/sample?n=2", headers=JSON)
    assert r.status_code == 200, r.text
    seed = r.json()["seed"]
    assert r.headers["x-seed"] == str(seed)
    again = client.get(f"/sample?n=2&seed={seed}", headers=JSON).json()
    assert again["latents"] == r.json()["latents"]


def test_sample_does_not_touch_the_global_rng(client: TestClient) -> None:
    np.random.seed(123)
    expected = np.random.rand(3)
    np.random.seed(123)
    client.get("/sample?n=4&seed=5")
    assert np.array_equal(np.random.rand(3), expected)


def test_large_json_is_gzipped_when_asked(client: TestClient) -> None:
    headers = {**JSON, "Accept-Encoding": "gzip"}
    zipped = client.get("/sample?n=16&seed=1", headers=headers)
    plain = client.get("/sample?n=16&seed=1", headers={**JSON, "Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.json() == plain.json()
    assert int(zipped.headers["content-length"]) < len(plain.content) / 3

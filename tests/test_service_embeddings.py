"""/embeddings: content, slicing, formats, caching (ETag/304), gzip and CORS."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from harness.fixture_models import FIXTURE_MODELS


@pytest.mark.parametrize("model", FIXTURE_MODELS)
def test_embeddings_match_the_manifest_and_npz(client: TestClient, models_dir, model) -> None:
    r = client.get(f"/embeddings?model={model}")
    assert r.status_code == 200, r.text
    body = r.json()
    manifest = json.loads((models_dir / model / "manifest.json").read_text())
    with np.load(models_dir / model / "embeddings.npz") as npz:
        labels, view3d, latents = npz["labels"], npz["view3d"], npz["latents"]
    assert body["model"] == model
    assert body["total"] == body["count"] == manifest["embeddings"]["count"] == len(labels)
    assert body["labels"] == labels.tolist()
    assert body["label_names"] == manifest["dataset"]["label_names"]
    assert body["latent_dim"] == manifest["latent_dim"]
    assert body["view3d_method"] == manifest["embeddings"]["view3d"]
    assert np.allclose(body["view3d"], view3d, atol=1e-4)
    assert np.allclose(body["latents"], latents, atol=1e-4)
    assert np.array(body["tsne2d"]).shape == (len(labels), 2)


def test_limit_and_offset(client: TestClient) -> None:
    full = client.get("/embeddings").json()
    part = client.get("/embeddings?offset=10&limit=5").json()
    assert (part["offset"], part["count"], part["total"]) == (10, 5, full["total"])
    assert part["labels"] == full["labels"][10:15]
    assert part["view3d"] == full["view3d"][10:15]
    past = client.get(f"/embeddings?offset={full['total'] + 5}").json()
    assert past["count"] == 0 and past["labels"] == []


def test_csv(client: TestClient) -> None:
    r = client.get("/embeddings?format=csv&model=conv32")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    full = client.get("/embeddings?model=conv32").json()
    assert len(rows) == full["total"]
    assert [int(row["label"]) for row in rows] == full["labels"]
    assert rows[0]["label_name"] == full["label_names"][full["labels"][0]]
    assert {"x", "y", "z", "tsne_x", "tsne_y", "z0", "z31"} <= set(rows[0])


def test_projector_tsv_pair(client: TestClient) -> None:
    vectors = client.get("/embeddings?format=tsv&model=conv32")
    meta = client.get("/embeddings?format=tsv-metadata&model=conv32")
    assert vectors.status_code == 200 and meta.status_code == 200
    assert vectors.headers["content-type"].startswith("text/tab-separated-values")
    lines = vectors.text.splitlines()
    meta_lines = meta.text.splitlines()
    assert meta_lines[0] == "label\tindex"
    assert len(lines) == len(meta_lines) - 1 == 200
    assert all(len(line.split("\t")) == 32 for line in lines)


def test_etag_and_304(client: TestClient) -> None:
    r = client.get("/embeddings")
    etag = r.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong
    assert "max-age" in r.headers["cache-control"]
    again = client.get("/embeddings", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert client.get("/embeddings", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/embeddings?format=csv").headers["etag"] != etag
    assert client.get("/embeddings?limit=3").headers["etag"] != etag
    assert client.get("/embeddings?model=conv32").headers["etag"] != etag


def test_gzip_when_asked(client: TestClient) -> None:
    plain = client.get("/embeddings", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/embeddings", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx inflates it
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2
    assert zipped.headers["etag"] != plain.headers["etag"]  # one tag per representation
    assert "Accept-Encoding" in zipped.headers["vary"]
    r = client.get("/embeddings", headers={"Accept-Encoding": "gzip",
                                           "If-None-Match": zipped.headers["etag"]})  # fmt: skip
    assert r.status_code == 304


def test_cors_allow_list(make_client: Callable[..., TestClient]) -> None:
    client = make_client(cors_origins=["http://localhost:5173"])
    r = client.get("/embeddings", headers={"Origin": "http://localhost:5173"})
    assert r.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "etag" in r.headers["access-control-expose-headers"].lower()
    r = client.get("/embeddings", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    pre = client.options("/decode", headers={"Origin": "http://localhost:5173",
                                             "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert pre.status_code == 200, pre.text


@pytest.fixture(scope="module")
def wide_dir(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """conv32 exported as a wide model would be: no raw latents, diagonal prior."""
    out = tmp_path_factory.mktemp("wide")
    shutil.copytree(models_dir / "conv32", out / "wide")
    manifest = json.loads((out / "wide" / "manifest.json").read_text())
    manifest["embeddings"]["has_latents"] = False
    manifest["prior"]["scale_tril"] = None
    (out / "wide" / "manifest.json").write_text(json.dumps(manifest))
    with np.load(out / "wide" / "embeddings.npz") as npz:
        kept = {k: npz[k] for k in npz.files if k != "latents"}
    np.savez(out / "wide" / "embeddings.npz", **kept)
    return out


def test_model_without_raw_latents(make_client: Callable[..., TestClient], wide_dir, digits):
    client = make_client(model_dir=wide_dir, default_model="wide")
    body = client.get("/embeddings").json()
    assert body["latents"] is None and len(body["view3d"]) == body["total"]
    assert "z0" not in client.get("/embeddings?format=csv").text.splitlines()[0]
    r = client.post("/encode", json={"pixels": digits[0][0].tolist()})
    assert r.status_code == 200, r.text
    latent, view = np.array(r.json()["latent"]), np.array(r.json()["view3d"])
    assert latent.shape == (32,)
    # No raw latents to fit a view from: the manifest's projection places the new point.
    proj = json.loads((wide_dir / "wide" / "manifest.json").read_text())["embeddings"]["projection"]
    np.testing.assert_allclose(view, (latent - proj["mean"]) @ np.array(proj["axes"]), atol=1e-4)


def test_diagonal_prior_sampling(make_client: Callable[..., TestClient], wide_dir) -> None:
    client = make_client(model_dir=wide_dir, default_model="wide", max_samples=64)
    prior = json.loads((wide_dir / "wide" / "manifest.json").read_text())["prior"]
    r = client.get("/sample?n=64&seed=3", headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    z = np.array(r.json()["latents"])
    ratio = z.std(0) / np.array(prior["std"])
    assert 0.6 < ratio.mean() < 1.4

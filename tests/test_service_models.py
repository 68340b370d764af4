"""Start-up and metadata: model loading, broken folders, /models, health, OpenAPI."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BROKEN
from fastapi.testclient import TestClient
from pydantic import ValidationError

from harness.fixture_models import FIXTURE_MODELS
from service.config import Settings
from service.http.app import create_app


def test_models_lists_the_loaded_models_with_their_manifests(
    client: TestClient, models_dir: Path
) -> None:
    r = client.get("/models")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["default"] == "mlp3d"
    by_name = {m["name"]: m for m in body["models"]}
    assert set(by_name) == set(FIXTURE_MODELS)
    for name, summary in by_name.items():
        manifest = json.loads((models_dir / name / "manifest.json").read_text())
        assert summary["latent_dim"] == manifest["latent_dim"]
        assert summary["architecture"] == manifest["architecture"]
        assert summary["metrics"]["test_mse"] == manifest["metrics"]["test_mse"]
        assert summary["embeddings"] == manifest["embeddings"]["count"]


@pytest.mark.parametrize("name", FIXTURE_MODELS)
def test_model_detail_is_the_manifest(client: TestClient, models_dir: Path, name: str) -> None:
    r = client.get(f"/models/{name}")
    assert r.status_code == 200, r.text
    assert r.json() == json.loads((models_dir / name / "manifest.json").read_text())


def test_broken_folders_are_skipped_and_reported(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready"
    assert body["models"] == sorted(FIXTURE_MODELS)
    assert set(body["failed"]) == set(BROKEN)  # _scratch and .tmp-* are not models at all
    assert "sha256" in body["failed"]["bad-hash"]
    assert "JSON" in body["failed"]["bad-json"]
    for reason in body["failed"].values():
        assert "Traceback" not in reason and "/" not in reason  # no paths or tracebacks leak


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok"}


def test_readyz_is_503_when_nothing_loads(tmp_path: Path, make_settings: Callable) -> None:
    app = create_app(make_settings(model_dir=tmp_path))
    with TestClient(app) as client:
        r = client.get("/readyz")
        assert r.status_code == 503, r.text
        assert r.json()["status"] == "not_ready"
        assert client.get("/healthz").status_code == 200
        r = client.post("/decode", json={"latent": [0, 0, 0]})
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "not_ready"


def test_missing_default_falls_back_to_first_loaded_model(
    make_client: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(default_model="vae")
    assert client.get("/models").json()["default"] == "conv32"
    assert "default model 'vae' is not loaded" in caplog.text
    r = client.post("/decode", json={"latent": [0.0] * 32})  # conv32 has 32-D latents
    assert r.status_code == 200, r.text


def test_no_models_loaded_at_import_or_before_lifespan(make_settings: Callable) -> None:
    app = create_app(make_settings())
    assert app.state.service.registry is None
    with TestClient(app):
        assert sorted(app.state.service.registry.models) == sorted(FIXTURE_MODELS)
    assert app.state.service.registry is None


def test_service_never_imports_the_trainer() -> None:
    root = Path(__file__).parent.parent / "service"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "trainer" for n in names), path


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = {"/models", "/models/{name}", "/encode", "/decode", "/reconstruct", "/sample",
             "/embeddings", "/healthz", "/readyz", "/metrics"}  # fmt: skip
    assert paths <= set(spec["paths"])
    for path in paths:
        for op in spec["paths"][path].values():
            assert op.get("description") or op.get("summary"), path
    encode_body = spec["paths"]["/encode"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "image/png", "application/json"} <= set(encode_body)
    assert client.get("/docs").status_code == 200


def test_openapi_examples_work(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    content = spec["paths"]["/encode"]["post"]["requestBody"]["content"]
    r = client.post("/encode", json=content["application/json"]["example"])
    assert r.status_code == 200, r.text
    schema = spec["components"]["schemas"]["DecodeRequest"]
    r = client.post("/decode", json=schema["examples"][0])
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("http://a.example, http://b.example", ["http://a.example", "http://b.example"]),
     ('["http://a.example"]', ["http://a.example"]), ("*", ["*"]), ("", [])],
)  # fmt: skip
def test_settings_from_env(monkeypatch: pytest.MonkeyPatch, value: str, expected: list) -> None:
    monkeypatch.setenv("LATENTLAB_CORS_ORIGINS", value)
    monkeypatch.setenv("LATENTLAB_API_KEY", "")  # empty means unset (docker compose passes "")
    monkeypatch.setenv("LATENTLAB_MAX_SAMPLES", "8")
    settings = Settings(_env_file=None)
    assert settings.cors_origins == expected
    assert settings.api_key is None
    assert settings.max_samples == 8


def test_settings_reject_a_pixel_cap_above_pillows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LATENTLAB_MAX_PIXELS", str(10**9))
    with pytest.raises(ValidationError, match="max_pixels"):
        Settings(_env_file=None)

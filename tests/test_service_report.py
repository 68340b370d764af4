"""GET /models/{name}/report/{file}: only the pictures a manifest lists, never anything else."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import open_png, png_bytes
from fastapi.testclient import TestClient
from PIL import Image
from test_service_errors import assert_error

LISTED = ["curves.png", "anim.gif", "missing.png", "../manifest.json", ".hidden.png", "notes.txt"]


@pytest.fixture(scope="module")
def report_dir(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture mlp3d with a report: listed pictures, an unlisted one, odd names."""
    out = tmp_path_factory.mktemp("report-models")
    folder = out / "mlp3d"
    shutil.copytree(models_dir / "mlp3d", folder)
    report = folder / "report"
    report.mkdir(exist_ok=True)
    (report / "curves.png").write_bytes(png_bytes(np.eye(28)))
    Image.new("L", (8, 8)).save(report / "anim.gif")
    (report / "secret.png").write_bytes(png_bytes(np.ones((28, 28))))  # not listed
    (report / ".hidden.png").write_bytes(png_bytes(np.ones((28, 28))))
    (report / "notes.txt").write_text("not a picture")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["report"] = LISTED
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return out


@pytest.fixture
def client(make_client: Callable[..., TestClient], report_dir: Path) -> TestClient:
    return make_client(model_dir=report_dir)


def test_listed_pictures_are_served(client: TestClient, report_dir: Path) -> None:
    r = client.get("/models/mlp3d/report/curves.png")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.content == (report_dir / "mlp3d" / "report" / "curves.png").read_bytes()
    r = client.get("/models/mlp3d/report/anim.gif")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/gif"
    assert open_png(r.content).size == (8, 8)


@pytest.mark.parametrize(
    "file", ["secret.png", "missing.png", ".hidden.png", "notes.txt", "model.pt", "manifest.json"]
)
def test_anything_else_is_404(client: TestClient, file: str) -> None:
    r = client.get(f"/models/mlp3d/report/{file}")
    assert_error(r, 404, "report_not_found", repr(file), "curves.png")


@pytest.mark.parametrize(
    "path",
    [
        "/models/mlp3d/report/..%2Fmanifest.json",
        "/models/mlp3d/report/..%2F..%2Fmlp3d%2Fmodel.pt",
        "/models/mlp3d/report/%2E%2E%2Fmodel.pt",
        "/models/mlp3d/report/%2E%2E",
        "/models/mlp3d/report/..%5Cmanifest.json",
        "/models/..%2Fmlp3d/report/curves.png",
        "/models/mlp3d/report/%2Fetc%2Fpasswd",
    ],
)
def test_path_traversal_is_404(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404, r.text
    assert list(r.json()) == ["error"]  # the one error shape, and no file contents


def test_unknown_model_and_unlisted_report(make_client: Callable[..., TestClient]) -> None:
    client = make_client()  # the fixture models list no report pictures
    assert_error(client.get("/models/nope/report/x.png"), 404, "model_not_found", "mlp3d")
    assert_error(client.get("/models/mlp3d/report/x.png"), 404, "report_not_found", "none")


def test_needs_the_api_key_when_one_is_set(
    make_client: Callable[..., TestClient], report_dir: Path
) -> None:
    client = make_client(model_dir=report_dir, api_key="s3cret")
    assert_error(client.get("/models/mlp3d/report/curves.png"), 401, "unauthorized")
    r = client.get("/models/mlp3d/report/curves.png", headers={"X-API-Key": "s3cret"})
    assert r.status_code == 200, r.text

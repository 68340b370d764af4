"""Every artifact kind gives TorchScript's pixels through the service, and folders without
the newer artifacts still load.

Tolerances: the runtimes differ from TorchScript only by float32 rounding (about 1e-6 on
these nets; each artifact is checked against eager at export with rtol 1e-4, atol 1e-5), so
JSON pixels (rounded to 4 digits by the API) agree within 2e-4, latents (5 digits) within
1e-4, and PNG pixels within one grey level. The AOTInductor packages are compiled only when
TrainConfig.aoti is on (about a minute per model here), which the fixture models leave off;
they are checked on the committed zoo instead."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import old_format, open_png, png_bytes
from fastapi.testclient import TestClient

from harness.fixture_models import FIXTURE_MODELS
from service.config import Settings
from service.http.app import create_app

ZOO = Path(__file__).parent.parent / "models"
JSON = {"Accept": "application/json"}
PIXEL_TOL, LATENT_TOL = 2e-4, 1e-4
DIMS = {"mlp3d": 3, "conv32": 32}  # the fixture models' latent sizes
COMMITTED = sorted(
    p.parent.name
    for p in ZOO.glob("*/manifest.json")
    if p.parent.name[0] not in "._" and "aoti" in json.loads(p.read_text()).get("artifacts", {})
)


def answers(client: TestClient, model: str, digits: np.ndarray, dim: int) -> dict[str, Any]:
    """The verbs' outputs for fixed inputs: latents, decoded pixels (JSON and PNG)."""
    latents = np.random.default_rng(0).standard_normal((6, dim)).round(3).tolist()
    enc = client.post(f"/encode?model={model}", json={"pixels": digits[:6].tolist()})
    dec = client.post(f"/decode?model={model}", json={"latents": latents}, headers=JSON)
    png = client.post(f"/decode?model={model}", json={"latent": latents[0]})
    upload = {"file": ("digit.png", png_bytes(digits[0]), "image/png")}
    recon = client.post(f"/reconstruct?model={model}", files=upload, headers=JSON)
    for r in (enc, dec, png, recon):
        assert r.status_code == 200, r.text
    return {
        "latents": np.array(enc.json()["latents"]),
        "pixels": np.array(dec.json()["pixels"]),
        "png": np.asarray(open_png(png.content), dtype=np.int16),
        "recon": np.array(recon.json()["pixels"]),
    }


def runtimes(client: TestClient) -> dict[str, str]:
    return {m["name"]: m["runtime"] for m in client.get("/models").json()["models"]}


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert np.abs(got["latents"] - want["latents"]).max() <= LATENT_TOL
    assert np.abs(got["pixels"] - want["pixels"]).max() <= PIXEL_TOL
    assert np.abs(got["recon"] - want["recon"]).max() <= PIXEL_TOL
    assert np.abs(got["png"] - want["png"]).max() <= 1


@pytest.fixture(scope="module")
def reference(make_settings: Callable[..., Settings], digits: Any) -> dict[str, Any]:
    """What TorchScript (model.pt, the contract) answers for each fixture model."""
    with TestClient(create_app(make_settings(engine="torchscript"))) as client:
        assert set(runtimes(client).values()) == {"torchscript"}
        return {name: answers(client, name, digits[0], dim) for name, dim in DIMS.items()}


@pytest.mark.parametrize("engine", ["auto", "onnx", "torch_export"])
def test_fixture_artifacts_give_torchscripts_pixels(
    make_client: Callable[..., TestClient], reference: dict[str, Any], digits: Any, engine: str
) -> None:
    client = make_client(engine=engine)
    kinds = runtimes(client)
    for name, dim in DIMS.items():
        assert kinds[name] == ("onnx" if engine == "auto" else engine)
        assert_same(answers(client, name, digits[0], dim), reference[name])


def test_manifest_lists_the_programs_with_their_hashes(models_dir: Path) -> None:
    for name in FIXTURE_MODELS:
        artifacts = json.loads((models_dir / name / "manifest.json").read_text())["artifacts"]
        assert "aoti" not in artifacts  # TrainConfig.aoti is off by default
        for verb, file in (("encode", "encoder.pt2"), ("decode", "decoder.pt2")):
            entry = artifacts["torch_export"][verb]
            assert entry["file"] == file
            digest = hashlib.sha256((models_dir / name / file).read_bytes()).hexdigest()
            assert entry["sha256"] == digest


@pytest.fixture
def older_folders(models_dir: Path, tmp_path: Path) -> Path:
    """mlp3d as written before torch.export (ONNX only) and before ONNX (model.pt only)."""
    onnx_only, script_only = tmp_path / "onnx-only", tmp_path / "script-only"
    for folder in (onnx_only, script_only):
        shutil.copytree(models_dir / "mlp3d", folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["name"] = folder.name
        for kind in ("torch_export", "aoti"):
            manifest["artifacts"].pop(kind, None)
        (folder / "manifest.json").write_text(json.dumps(manifest))
        for path in folder.glob("*.pt2"):
            path.unlink()
    old_format(script_only)
    return tmp_path


def test_folders_without_the_new_artifacts_still_load(
    older_folders: Path, make_client: Callable[..., TestClient]
) -> None:
    client = make_client(model_dir=older_folders, default_model="onnx-only")
    assert runtimes(client) == {"onnx-only": "onnx", "script-only": "torchscript"}
    r = client.post("/decode?model=script-only", json={"latent": [0.5, -1.0, 2.0]})
    assert r.status_code == 200, r.text


def test_a_named_engine_without_its_files_is_reported(
    older_folders: Path, make_client: Callable[..., TestClient]
) -> None:
    client = make_client(model_dir=older_folders, default_model="onnx-only", engine="aoti")
    failed = client.get("/readyz").json()["failed"]
    assert set(failed) == {"onnx-only", "script-only"}
    assert "python -m trainer.export_program" in failed["onnx-only"]


@pytest.fixture(scope="module")
def zoo_torchscript(digits: Any) -> Iterator[TestClient]:
    settings = Settings(_env_file=None, model_dir=ZOO, engine="torchscript")  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.slow
@pytest.mark.skipif(not COMMITTED, reason="no committed model lists AOTInductor packages")
def test_committed_aoti_packages_give_torchscripts_pixels(
    zoo_torchscript: TestClient, digits: Any
) -> None:
    settings = Settings(_env_file=None, model_dir=ZOO, engine="aoti")  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        kinds = runtimes(client)
        for name in COMMITTED:
            assert kinds[name] == "aoti"
            dim = json.loads((ZOO / name / "manifest.json").read_text())["latent_dim"]
            got = answers(client, name, digits[0], dim)
            assert_same(got, answers(zoo_torchscript, name, digits[0], dim))

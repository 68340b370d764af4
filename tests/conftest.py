"""Service test fixtures: two small real models trained once per session with the trainer,
plus broken folders beside them, and clients built on that model dir."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from harness.fixture_models import FIXTURE_MODELS, SAMPLE, train_fixture_models
from service.config import Settings
from service.http.app import create_app

# Broken folders the service must skip (and report in /readyz) while the others serve.
BROKEN = ("bad-hash", "bad-json", "bad-onnx", "bad-torchscript", "no-embeddings")


@pytest.fixture(scope="session", autouse=True)
def _no_latentlab_env() -> Iterator[None]:
    """A developer's LATENTLAB_* variables must not change what the tests see."""
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("LATENTLAB_")]:
            mp.delenv(key)
        yield


def _break(out: Path) -> None:
    """Copies of mlp3d, each damaged in one way the loader must catch."""
    for name in BROKEN:
        shutil.copytree(out / "mlp3d", out / name)
    with (out / "bad-hash" / "decoder.onnx").open("ab") as f:  # the artifact that is served
        f.write(b"tampered")
    (out / "bad-json" / "manifest.json").write_text('{"format_version": 1, "name": ')
    folder = out / "bad-torchscript"  # a folder from before ONNX export, so model.pt is run
    old_format(folder)
    (folder / "model.pt").write_bytes(b"not a TorchScript archive")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["model_sha256"] = hashlib.sha256(b"not a TorchScript archive").hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    folder = out / "bad-onnx"
    (folder / "decoder.onnx").write_bytes(b"not an ONNX graph")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["artifacts"]["onnx"]["decode"]["sha256"] = hashlib.sha256(
        b"not an ONNX graph"
    ).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (out / "no-embeddings" / "embeddings.npz").unlink()
    (out / "_scratch").mkdir()  # not a model: names starting with _ or . are skipped
    (out / ".tmp-mlp3d-123").mkdir()


def old_format(folder: Path) -> None:
    """Make a model folder look like one the trainer wrote before it exported ONNX."""
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["artifacts"]
    manifest.pop("learned_prior", None)  # prior.onnx came later too (issue 23)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for path in folder.glob("*.onnx"):
        path.unlink()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture models, trained here (with torch), or copied from FIXTURE_MODELS_DIR when
    that folder holds them: CI trains them once in the full environment, keeps them there,
    and runs the service tests again in the torch-free API environment on the same models."""
    out = tmp_path_factory.mktemp("models")
    kept = Path(os.environ["FIXTURE_MODELS_DIR"]) if os.environ.get("FIXTURE_MODELS_DIR") else None
    if kept is not None and all((kept / name).is_dir() for name in FIXTURE_MODELS):
        shutil.copytree(kept, out, dirs_exist_ok=True)
    else:
        pytest.importorskip("torch", reason="training the fixture models needs torch")
        train_fixture_models(out)
        if kept is not None:
            shutil.copytree(out, kept, dirs_exist_ok=True)
    _break(out)
    return out


@pytest.fixture(scope="session")
def make_settings(models_dir: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        return Settings(_env_file=None, **{"model_dir": models_dir, **overrides})

    return make


@pytest.fixture
def make_client(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """Clients on fresh apps with setting overrides; the lifespan runs (models load)."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(make_settings(**overrides)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """One app with default settings, shared by a test module."""
    with TestClient(create_app(make_settings())) as client:
        yield client


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """The last 200 sample images (the fixture models' test split), float [0, 1], and labels."""
    with np.load(SAMPLE) as f:
        return f["images"][-200:].astype(np.float32) / 255.0, f["labels"][-200:].astype(int)


def png_bytes(pixels: np.ndarray, mode: str = "L") -> bytes:
    """Encode a float [0, 1] array as a PNG (converted to `mode`)."""
    img = Image.fromarray((np.clip(pixels, 0, 1) * 255).round().astype(np.uint8)).convert(mode)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def open_png(content: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(content))
    img.load()
    return img

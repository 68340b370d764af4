"""Model lifecycle: numbered versions beside flat folders, ?version=, a version policy, and
live reload while requests run (new, corrupt and removed versions), plus the trainer never
replacing a model folder."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.http.app import create_app
from trainer.export import next_version_path

LATENT = {"latent": [0.5, -1.0, 2.0]}


def versioned(models_dir: Path, out: Path, versions: dict[int, str]) -> Path:
    """out/mlp3d/<N>/ for each N: a copy of the fixture model `versions[N]`."""
    for number, source in versions.items():
        shutil.copytree(models_dir / source, out / "mlp3d" / str(number))
    return out


def stamp(folder: Path, note: str) -> None:
    """Mark a copied version so the API shows which one answered."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["metrics"]["note"] = note
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_latest_version_is_the_default_and_version_picks_one(models_dir: Path, tmp_path: Path):
    out = versioned(models_dir, tmp_path, {1: "mlp3d", 2: "conv32"})
    (out / "mlp3d" / "serving.json").write_text('{"version_policy": "all"}')
    with TestClient(create_app(Settings(_env_file=None, model_dir=out))) as client:
        listed = client.get("/models").json()["models"][0]
        assert (listed["name"], listed["version"], listed["versions"]) == ("mlp3d", 2, [1, 2])
        assert listed["latent_dim"] == 32  # version 2 is the conv32 copy
        assert client.post("/decode", json={"latent": [0.0] * 32}).status_code == 200
        r = client.post("/decode?version=1", json=LATENT)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert client.get("/models/mlp3d?version=1").json()["latent_dim"] == 3
        r = client.post("/decode?version=7", json=LATENT)
        assert r.status_code == 404 and "versions: 1, 2" in r.json()["error"]["message"]
        assert client.get("/readyz").json()["versions"] == {"mlp3d": [1, 2]}


def test_latest_policy_serves_only_the_newest(models_dir: Path, tmp_path: Path) -> None:
    out = versioned(models_dir, tmp_path, {1: "mlp3d", 3: "mlp3d"})
    with TestClient(create_app(Settings(_env_file=None, model_dir=out))) as client:
        assert client.get("/readyz").json()["versions"] == {"mlp3d": [3]}
        assert client.post("/decode?version=1", json=LATENT).status_code == 404


async def _traffic(client: httpx.AsyncClient, stop: asyncio.Event, codes: list[int]) -> None:
    while not stop.is_set():
        r = await client.post("/decode", json=LATENT)
        codes.append(r.status_code)
        await asyncio.sleep(0.002)


async def _wait_for(client: httpx.AsyncClient, check: Callable[[dict], bool]) -> dict:
    for _ in range(200):  # 10 s
        body = (await client.get("/readyz")).json()
        if check(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"reload not seen: {body}")


def test_live_reload_while_requests_run(models_dir: Path, tmp_path: Path) -> None:
    out = versioned(models_dir, tmp_path, {1: "mlp3d"})
    model = out / "mlp3d"
    settings = Settings(_env_file=None, model_dir=out, poll_seconds=0.1)

    async def scenario() -> list[int]:
        app = create_app(settings)
        codes: list[int] = []
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                stop = asyncio.Event()
                senders = [asyncio.create_task(_traffic(client, stop, codes)) for _ in range(4)]
                # A new version copied in file by file, as a user would: it becomes the default.
                await asyncio.to_thread(shutil.copytree, models_dir / "mlp3d", model / "2")
                await _wait_for(client, lambda b: b["versions"].get("mlp3d") == [2])
                # A corrupt one: reported, and version 2 keeps serving.
                await asyncio.to_thread(shutil.copytree, model / "2", model / "3")
                with (model / "3" / "decoder.onnx").open("ab") as f:
                    f.write(b"corrupt")
                body = await _wait_for(client, lambda b: "mlp3d/3" in b["failed"])
                assert body["versions"] == {"mlp3d": [2]} and "sha256" in body["failed"]["mlp3d/3"]
                # Removed: version 2 goes, so the latest that loads (1) serves again.
                shutil.rmtree(model / "3")
                await asyncio.to_thread(shutil.rmtree, model / "2")
                body = await _wait_for(client, lambda b: b["versions"].get("mlp3d") == [1])
                assert body["failed"] == {}
                r = await client.post("/decode?version=2", json=LATENT)
                assert r.status_code == 404
                stop.set()
                await asyncio.gather(*senders)
        return codes

    codes = asyncio.run(scenario())
    assert len(codes) > 20 and set(codes) == {200}  # no request failed during the reloads


def test_the_trainer_writes_the_next_version(tmp_path: Path) -> None:
    model = tmp_path / "mlp3d"
    assert next_version_path(model) == model  # a new name: a flat folder, as before
    model.mkdir()
    (model / "manifest.json").write_text("{}")
    (model / "model.pt").write_bytes(b"v1")
    assert next_version_path(model) == model / "2"  # the flat folder became version 1
    assert (model / "1" / "model.pt").read_bytes() == b"v1"
    (model / "2").mkdir()
    assert next_version_path(model) == model / "3"


@pytest.mark.parametrize("engine", ["auto", "torchscript"])
def test_a_folder_from_before_onnx_export_still_serves(
    make_settings: Callable[..., Settings], engine: str
) -> None:
    """tests/fixtures/old-format/mlp3d is a model folder exactly as the trainer wrote it before
    this version (no artifacts, TorchScript only): it loads, and answers like the committed
    mlp3d (the same weights) does through ONNX Runtime."""
    old = Path(__file__).parent / "fixtures" / "old-format"
    with TestClient(create_app(Settings(_env_file=None, model_dir=old, engine=engine))) as client:
        listed = client.get("/models").json()["models"][0]
        assert listed["runtime"] == "torchscript"
        png = client.post("/decode", json=LATENT).content
    committed = Path(__file__).parent.parent / "models"
    with TestClient(create_app(Settings(_env_file=None, model_dir=committed))) as client:
        assert client.get("/models/mlp3d").status_code == 200
        assert client.post("/decode?model=mlp3d", json=LATENT).content == png

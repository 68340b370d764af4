"""The API without torch: the default install (and Docker image) leaves torch out, so the
service must serve every bundled model on ONNX Runtime and turn away, with the reason, a
folder that only a torch engine could serve. Each check runs in a fresh interpreter where
`import torch` fails (a blocking import hook), whether or not torch is installed here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import old_format

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "models"

# Run in the child: block torch, serve `model_dir`, call the API, print what it answered.
_CHILD = """
import importlib.abc, json, sys

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoTorch())
from fastapi.testclient import TestClient
from service.config import Settings
from service.http.app import create_app

settings = Settings(_env_file=None, model_dir=sys.argv[1], engine=sys.argv[2], workers=1)
out = {}
with TestClient(create_app(settings)) as client:
    ready = client.get("/readyz")
    out["ready"] = ready.status_code, ready.json()
    for name in ready.json().get("models", []):
        dim = client.get(f"/models/{name}").json()["latent_dim"]
        png = client.post(f"/decode?model={name}", json={"latent": [0.0] * dim})
        wanted = client.get(f"/v2/models/{name}-decoder").json()["inputs"][0]["name"]
        infer = client.post(
            f"/v2/models/{name}-decoder/infer",
            json={"inputs": [{"name": wanted, "shape": [1, dim], "datatype": "FP32",
                              "data": [0.0] * dim}]},
        )
        out[name] = png.status_code, png.content[:8].hex(), infer.status_code
out["torch_imported"] = "torch" in sys.modules
print(json.dumps(out))
"""


def serve_without_torch(model_dir: Path, engine: str = "auto") -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(model_dir), engine],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_every_bundled_model_serves_without_torch() -> None:
    out = serve_without_torch(BUNDLED)
    status, ready = out["ready"]
    served = sorted(p.name for p in BUNDLED.iterdir() if (p / "manifest.json").is_file())
    assert status == 200 and ready["failed"] == {}, ready
    assert sorted(ready["models"]) == served
    for name in served:
        assert out[name] == [200, "89504e470d0a1a0a", 200], (name, out[name])  # a PNG; /v2 200
    assert out["torch_imported"] is False


def test_a_torchscript_only_folder_is_listed_with_its_reason(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED / "mlp3d", tmp_path / "mlp3d", ignore=shutil.ignore_patterns("*.pt2"))
    shutil.copytree(tmp_path / "mlp3d", tmp_path / "old-mlp3d")
    old_format(tmp_path / "old-mlp3d")  # as written before ONNX export: model.pt alone
    out = serve_without_torch(tmp_path)
    status, ready = out["ready"]
    assert status == 200 and ready["models"] == ["mlp3d"], ready
    reason = ready["failed"]["old-mlp3d"]
    assert "needs torch" in reason and "onnx_export" in reason, reason
    assert out["mlp3d"][0] == 200


def test_a_torch_engine_named_without_torch_fails_every_folder_with_the_reason(
    tmp_path: Path,
) -> None:
    shutil.copytree(BUNDLED / "mlp3d", tmp_path / "mlp3d", ignore=shutil.ignore_patterns("*.pt2"))
    out = serve_without_torch(tmp_path, engine="torchscript")
    status, ready = out["ready"]
    assert status == 503 and ready["models"] == [], ready
    assert "needs torch for the torchscript engine" in ready["failed"]["mlp3d"]

"""The trainer: networks, determinism, export contract and CLI errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from trainer.config import ZOO, config_for
from trainer.data import Splits, sample_splits
from trainer.export import save_torchscript, sha256, staging_folder
from trainer.nets import LATENT_SHAPES, build
from trainer.pipeline import train_and_export
from trainer.train import evaluate, fit

SAMPLE = Path(__file__).parent / "fixtures" / "mnist_test_sample.npz"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def splits() -> Splits:
    return sample_splits(SAMPLE, val_size=100, test_size=200, seed=0)


@pytest.mark.parametrize("name", ZOO)
@torch.no_grad()
def test_encode_decode_shapes(name: str) -> None:
    net = build(name).eval()
    dim = int(np.prod(LATENT_SHAPES[name]))
    x = torch.rand(5, 1, 28, 28)
    z = net.encode(x)
    out = net.decode(z)
    assert z.shape == (5, dim)
    assert out.shape == (5, 1, 28, 28)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


@pytest.mark.parametrize("name", ZOO)
def test_torchscript_export_equals_eager(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = build(name).eval()
    x = torch.rand(4, 1, 28, 28)
    save_torchscript(net, tmp_path / "model.pt", x)
    loaded = torch.jit.load(str(tmp_path / "model.pt"))
    with torch.no_grad():
        z = net.encode(x)
        assert torch.allclose(loaded.encode(x), z, atol=1e-6)
        assert torch.allclose(loaded.decode(z), net.decode(z), atol=1e-6)
        assert torch.allclose(loaded(x), net(x), atol=1e-6)


@pytest.mark.parametrize("name", ["mlp3d", "conv32", "vae"])
def test_a_few_epochs_lower_the_loss(name: str, splits: Splits, tmp_path: Path) -> None:
    cfg = config_for(name, epochs=3, batch_size=32, device="cpu", snapshots=2)
    torch.manual_seed(0)
    before = evaluate(build(name), splits.val)
    result = fit(cfg, splits, tmp_path)
    assert result.history.val_loss[-1] < before * 0.9
    assert len(result.history.train_loss) == 3
    lines = (tmp_path / "training_log.txt").read_text().splitlines()
    assert lines[0].startswith("Epoch 1, Loss: ")
    assert len((tmp_path / "training_log.jsonl").read_text().splitlines()) == 3


def test_same_seed_same_weights(splits: Splits, tmp_path: Path) -> None:
    def weights(seed: int, run: str) -> dict[str, torch.Tensor]:
        (tmp_path / run).mkdir()
        cfg = config_for("mlp32", epochs=1, device="cpu", seed=seed)
        return fit(cfg, splits, tmp_path / run).model.state_dict()

    a, b, c = weights(1, "a"), weights(1, "b"), weights(2, "c")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.fixture(scope="module")
def exported(splits: Splits, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    cfg = config_for("mlp3d", epochs=2, device="cpu", out=str(out), report=False,
                     sample_quality=False)  # fmt: skip
    return train_and_export(cfg, splits)


def test_manifest_fields_present_and_typed(exported: Path) -> None:
    m = json.loads((exported / "manifest.json").read_text())
    assert m["format_version"] == 1 and m["name"] == "mlp3d"
    assert m["latent_dim"] == 3 and m["latent_shape"] == [3]
    assert m["dataset"]["label_names"] == [str(d) for d in range(10)]
    assert m["config"]["epochs"] == 2 and m["config"]["model"] == "mlp3d"
    metrics = m["metrics"]
    for key in ("test_mse", "test_psnr", "train_loss", "val_loss", "knn_accuracy", "pca_mse"):
        assert isinstance(metrics[key], float), key
    assert 0 < metrics["test_mse"] < 0.1 and 0 <= metrics["knn_accuracy"] <= 1
    prior = m["prior"]
    assert prior["kind"] == "gaussian" and len(prior["mean"]) == 3
    assert np.array(prior["scale_tril"]).shape == (3, 3)
    assert all(lo < hi for lo, hi in zip(prior["low"], prior["high"], strict=True))
    assert m["model_sha256"] == sha256(exported / "model.pt")
    assert m["training"]["device"] == "cpu" and m["training"]["seconds"] > 0
    assert isinstance(m["torch_version"], str) and m["created_at"].startswith("20")


def test_embeddings_cover_the_test_split(exported: Path, splits: Splits) -> None:
    m = json.loads((exported / "manifest.json").read_text())
    with np.load(exported / "embeddings.npz") as e:
        assert e["labels"].tolist() == splits.test.labels.tolist()
        assert e["view3d"].shape == (200, 3) and e["tsne2d"].shape == (200, 2)
        assert e["latents"].dtype == np.float32
        model = torch.jit.load(str(exported / "model.pt"))
        latents = model.encode(splits.test.pixels()).numpy()
        np.testing.assert_allclose(e["latents"], latents, atol=1e-5)
        np.testing.assert_allclose(e["view3d"], latents, atol=1e-5)  # D = 3: the latent itself
    assert m["embeddings"]["count"] == 200 and m["embeddings"]["view3d"] == "latent"
    proj = m["embeddings"]["projection"]
    view = (latents - np.array(proj["mean"])) @ np.array(proj["axes"])
    np.testing.assert_allclose(view, latents, atol=1e-5)


def test_interrupted_export_leaves_no_folder(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), staging_folder(tmp_path, "mlp3d") as folder:
        (folder / "model.pt").write_bytes(b"half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "trainer", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_missing_dataset_is_a_clear_error(tmp_path: Path) -> None:
    r = run_cli("--model", "mlp3d", "--data-root", str(tmp_path), "--no-download")
    assert r.returncode == 2
    assert "MNIST not found under" in r.stderr and "--data-root" in r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_model_is_a_clear_error() -> None:
    r = run_cli("--model", "resnet")
    assert r.returncode == 2
    assert "invalid choice: 'resnet'" in r.stderr and "mlp3d" in r.stderr
    assert "Traceback" not in r.stderr

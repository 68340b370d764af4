"""trainer/priors.py and `python -m trainer refresh`: per-label priors fitted and sampled,
and a folder from before them gaining label priors and train embeddings without its model
files changing."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.fixture_models import SAMPLE
from service.repository.registry import load_model
from trainer.__main__ import main as trainer_main
from trainer.data import sample_splits
from trainer.flow_prior import FlowPriorConfig
from trainer.priors import fit_label_priors, mixture_labels, sample_labels
from trainer.refresh import refresh_folder


def test_label_priors_recover_each_labels_gaussian() -> None:
    gen = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, -5.0], [-4.0, 8.0]])
    labels = torch.arange(3).repeat_interleave(torch.tensor([2000, 1000, 1000]))
    z = centres[labels] + torch.randn(len(labels), 2, generator=gen) * torch.tensor([1.0, 0.5])
    priors = fit_label_priors(z, labels, ["a", "b", "c"])
    assert [e["name"] for e in priors["labels"]] == ["a", "b", "c"]
    assert [e["weight"] for e in priors["labels"]] == [0.5, 0.25, 0.25]
    for entry, centre in zip(priors["labels"], centres, strict=True):
        np.testing.assert_allclose(entry["mean"], centre, atol=0.1)
        np.testing.assert_allclose(np.abs(entry["scale_tril"]).diagonal(), [1.0, 0.5], atol=0.1)
    draws = sample_labels(priors, torch.full((500,), 1), seed=0)
    np.testing.assert_allclose(draws.mean(0), centres[1], atol=0.15)
    mix = mixture_labels(priors, 4000, seed=0)
    assert 0.45 < float((mix == 0).float().mean()) < 0.55


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def old_folder(models_dir: Path, tmp_path: Path) -> Path:
    """The fixture mlp3d as a folder exported before label priors and train embeddings."""
    folder = tmp_path / "models" / "old"
    shutil.copytree(models_dir / "mlp3d", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["label_priors"], manifest["embeddings"]["splits"]
    del manifest["metrics"]["conditional_accuracy"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "embeddings-train.npz").unlink()
    return folder


def test_refresh_adds_priors_and_train_split_and_keeps_model_files(
    old_folder: Path, tmp_path: Path
) -> None:
    before = {p.name: _sha(p) for p in old_folder.glob("*coder.onnx")} | {
        "model.pt": _sha(old_folder / "model.pt")
    }
    splits = sample_splits(SAMPLE, val_size=100, test_size=200, seed=0)
    cfg = FlowPriorConfig(hidden=64, train_steps=100)
    manifest = refresh_folder(old_folder, splits, tmp_path / "cache", cfg)
    assert manifest == json.loads((old_folder / "manifest.json").read_text())
    assert before == {p: _sha(old_folder / p) for p in before}  # nothing rewritten
    assert manifest["model_sha256"] == before["model.pt"]
    for verb in ("encode", "decode"):
        entry = manifest["artifacts"]["onnx"][verb]
        assert entry["sha256"] == _sha(old_folder / entry["file"])
    train = manifest["embeddings"]["splits"]["train"]
    assert train["count"] == 800 and train["sha256"] == _sha(old_folder / train["file"])
    with np.load(old_folder / train["file"]) as npz:
        assert npz["index"].tolist() == list(range(800))
    priors = manifest["label_priors"]
    assert [e["name"] for e in priors["labels"]] == [str(d) for d in range(10)]
    assert priors["count"] == 700  # fitted on the optimiser's part, not the validation
    accuracy = manifest["metrics"]["conditional_accuracy"]
    assert set(accuracy["per_label"]) == {str(d) for d in range(10)}
    assert 0.0 <= accuracy["mean"] <= 1.0
    learned = manifest["learned_prior"]
    assert learned["sha256"] == _sha(old_folder / "prior.onnx")
    assert set(learned["metrics"]["baselines"]) == {"gaussian", "label_gmm", "reconstruction"}
    served = load_model(old_folder)  # the service takes the refreshed folder
    assert served.label_priors is not None
    assert served.label_latents(np.array([7, 7]), seed=1).shape == (2, 3)
    assert served.learned_latents(4, 1, np.array([7, 7, 1, 1]), 4, 2.0).shape == (4, 3)


def test_refresh_cli_says_where_the_data_is_missing(old_folder: Path, capsys) -> None:
    args = ["refresh", "--model-dir", str(old_folder.parent), "--data-root", "/nonexistent",
            "--no-download"]  # fmt: skip
    assert trainer_main(args) == 2
    assert "--data-root" in capsys.readouterr().err

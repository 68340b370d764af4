"""The report writes every picture that applies, as readable, small image files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from trainer.report import ReportInputs, pca, views_3d, write_report
from trainer.train import History, Snapshot

COMMON = [
    "loss_curves.png",
    "latent_train_3d.png",
    "latent_test_3d.png",
    "tsne_test.png",
    "pca_test.png",
    "reconstructions.png",
    "samples.png",
    "latent_epochs.gif",
    "reconstruction_epochs.gif",
]
CONVBN = ["feature_maps.png", "digit_rows.png"]


def images(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.random(shape, dtype=np.float32)


def fake_inputs(model: str, dim: int, epochs: int = 3, n_snap: int = 200) -> ReportInputs:
    """Random arrays of the shapes the pipeline hands over (torch tensors in the snapshots)."""
    rng = np.random.default_rng(0)
    history = History(
        train_loss=list(np.linspace(0.06, 0.03, epochs)),
        val_loss=list(np.linspace(0.065, 0.032, epochs)),
        snapshots=[
            Snapshot(e, torch.randn(n_snap, dim) * e, torch.rand(10, 1, 28, 28))
            for e in range(1, epochs + 1)
        ],
    )
    test_latents = rng.normal(size=(300, dim)).astype(np.float32)
    convbn = model == "convbn"
    return ReportInputs(
        name=model,
        model=model,
        label_names=[str(i) for i in range(10)],
        history=history,
        snapshot_originals=images(rng, 10, 1, 28, 28),
        snapshot_labels=rng.integers(0, 10, 1000),  # longer than n_snap, as in the pipeline
        train_view3d=rng.normal(size=(500, 3)).astype(np.float32),
        train_labels=rng.integers(0, 10, 500),
        test_latents=test_latents,
        test_view3d=test_latents[:, :3].copy(),
        test_tsne=rng.normal(size=(300, 2)).astype(np.float32),
        test_labels=rng.integers(0, 10, 300),
        originals=images(rng, 16, 1, 28, 28),
        reconstructions=images(rng, 16, 1, 28, 28),
        samples=images(rng, 64, 1, 28, 28),
        feature_maps=rng.random((32, 7, 7), dtype=np.float32) if convbn else None,
        feature_digit=images(rng, 28, 28) if convbn else None,
        digit_rows=images(rng, 10, 3, 28, 28) if convbn else None,
    )


CASES = [("mlp3d", 3, COMMON), ("convbn", 1568, COMMON + CONVBN)]


@pytest.mark.parametrize(("model", "dim", "expected"), CASES)
def test_writes_every_picture(tmp_path: Path, model: str, dim: int, expected: list[str]) -> None:
    inputs = fake_inputs(model, dim)
    written = write_report(tmp_path, inputs)
    folder = tmp_path / "report"
    assert sorted(written) == sorted(expected)
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    for name in written:
        path = folder / name
        assert 3_000 < path.stat().st_size < 600_000, (name, path.stat().st_size)
        with Image.open(path) as image:
            assert image.format == ("GIF" if name.endswith(".gif") else "PNG")
            assert 250 <= image.width <= 1200 and 100 <= image.height <= 1200, image.size
            if name.endswith(".gif"):
                assert getattr(image, "n_frames", 1) == len(inputs.history.snapshots), name


def test_gif_holds_the_last_frame(tmp_path: Path) -> None:
    write_report(tmp_path, fake_inputs("mlp3d", 3))
    with Image.open(tmp_path / "report" / "reconstruction_epochs.gif") as gif:
        durations = []
        for frame in range(getattr(gif, "n_frames", 1)):
            gif.seek(frame)
            durations.append(gif.info["duration"])
    assert durations[-1] > durations[0] > 0, durations


def test_single_snapshot_gif(tmp_path: Path) -> None:
    write_report(tmp_path, fake_inputs("mlp32", 32, epochs=1))
    with Image.open(tmp_path / "report" / "latent_epochs.gif") as gif:
        assert getattr(gif, "n_frames", 1) == 1


@pytest.mark.parametrize("dim", [40, 600])  # the exact path and the randomized one
def test_pca_matches_exact_svd(dim: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, dim)) * 0.5 ** np.arange(dim)  # a clear spectrum
    scores, ratio = pca(x, 3)
    centred = x - x.mean(0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.abs(scores), np.abs(u[:, :3] * s[:3]), atol=1e-6)
    np.testing.assert_allclose(ratio, s[:3] ** 2 / np.sum(s**2), rtol=1e-6)


def test_animation_views_do_not_flip() -> None:
    # PCA of -z yields the negated scores of z; aligned, the second frame matches the first.
    z = np.random.default_rng(2).normal(size=(300, 20)) * np.linspace(3, 0.1, 20)
    first, second = views_3d([z, -z])
    np.testing.assert_allclose(second, first, atol=1e-8)

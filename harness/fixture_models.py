"""The small real models the tests and the contract check serve: trained with the trainer on
the committed 1,000-digit sample (no dataset download), a few seconds each on 2 cores."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "mnist_test_sample.npz"
# name -> (zoo design, epochs): enough for real reconstructions, ~10 s on 2 cores.
FIXTURE_MODELS = {"mlp3d": ("mlp3d", 12), "conv32": ("conv32", 8)}


def train_fixture_models(out: Path) -> None:
    """Train and export every FIXTURE_MODELS entry into `out` (a model repository)."""
    from threadpoolctl import threadpool_limits

    from trainer.config import config_for
    from trainer.data import sample_splits
    from trainer.pipeline import train_and_export

    splits = sample_splits(SAMPLE, val_size=100, seed=0)
    # torch and scikit-learn (t-SNE) each bring an OpenMP runtime; on 2 cores their spinning
    # workers starve each other (t-SNE of 200 points: 12 s instead of 0.6 s). One thread each.
    with threadpool_limits(1, user_api="openmp"):
        for name, (model, epochs) in FIXTURE_MODELS.items():
            cfg = config_for(
                model, epochs=epochs, lr=3e-3, batch_size=32, schedule="constant",
                out=str(out), name=name, report=False, sample_quality=False, device="cpu",
                prior_steps=150,
            )  # fmt: skip
            train_and_export(cfg, splits)

"""fit -> evaluate -> export: one model folder from a config and its data."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trainer import evaluate as ev
from trainer.config import RECIPES, TrainConfig
from trainer.data import Split, Splits
from trainer.export import (
    FORMAT_VERSION,
    fit_prior,
    save_embeddings,
    save_torchscript,
    sha256,
    staging_folder,
    write_manifest,
)  # fmt: skip
from trainer.export_program import save_programs
from trainer.flow_prior import FlowPriorConfig
from trainer.learned_prior import with_metrics
from trainer.maps import write_maps
from trainer.nets import LATENT_SHAPES, VAES
from trainer.onnx_export import save_onnx
from trainer.priors import mixture_samples
from trainer.refresh import label_extras
from trainer.report import ReportInputs, write_report
from trainer.sprites import write_sprite
from trainer.train import FitResult, fit, probe_indices

if TYPE_CHECKING:
    from trainer.quality import DigitClassifier

log = logging.getLogger(__name__)


def train_and_export(cfg: TrainConfig, splits: Splits) -> Path:
    """Train `cfg.model` on `splits`, evaluate it and write `cfg.out/<folder_name>/`."""
    out = Path(cfg.out)
    with staging_folder(out, cfg.folder_name) as folder:
        result = fit(cfg, splits, folder)
        model = result.model.cpu().eval()
        data = splits.to(torch.device("cpu"))
        train_z, test_z = ev.encode_all(model, data.train), ev.encode_all(model, data.test)
        kind = RECIPES[cfg.model].prior
        prior = fit_prior(train_z, standard_normal=kind == "standard_normal")
        save_torchscript(model, folder / "model.pt", data.test.pixels()[:8])
        artifacts = {"onnx": save_onnx(model, folder, int(test_z.shape[1]))}
        artifacts |= save_programs(model, folder, int(test_z.shape[1]), aoti=cfg.aoti)
        mean, axes = pca_fit(train_z.numpy(), 3)
        tsne = ev.tsne_2d(test_z.numpy(), seed=cfg.seed)
        embeddings = save_embeddings(
            folder / "embeddings.npz", test_z.numpy(), data.test.labels.numpy(), (mean, axes), tsne
        )
        classifier = evaluation_classifier(cfg, data, result.device)
        prior_cfg = FlowPriorConfig(train_steps=cfg.prior_steps, seed=cfg.seed)
        extras = label_extras(
            folder, model, data, (mean, axes), classifier, cfg.seed,
            prior_cfg if cfg.prior_steps > 0 else None,
        )  # fmt: skip
        embeddings["splits"] = {"train": extras["train_split"]}
        maps = write_maps(folder, extras["train_latents"], test_z.numpy(), cfg.seed)
        write_sprites(out, cfg.dataset, data)
        if kind == "label_mixture":  # unconditional draws: a label by frequency, then its prior
            prior["mixture"] = "label_priors"
            samples = mixture_samples(model, extras["label_priors"], 10_000, cfg.seed)
        else:
            samples = decode_prior(model, prior, n=10_000, seed=cfg.seed)
        metrics = compute_metrics(cfg, model, result, data, train_z, test_z, samples, classifier)
        metrics["conditional_accuracy"] = extras["conditional_accuracy"]
        report: list[str] = []
        if cfg.report:
            inputs = report_inputs(
                cfg,
                model,
                result,
                data,
                train_z,
                test_z,
                tsne,
                samples[:64],
                (mean, axes),
            )
            report = write_report(folder, inputs)
        manifest = {
            "format_version": FORMAT_VERSION,
            "name": cfg.folder_name,
            "model": cfg.model,
            "architecture": RECIPES[cfg.model].description,
            "dataset": {"name": cfg.dataset, "label_names": data.label_names,
                        "image_shape": [1, 28, 28]},
            "latent_dim": int(test_z.shape[1]),
            "latent_shape": LATENT_SHAPES[cfg.model],
            "config": cfg.to_dict(),
            "metrics": metrics,
            "prior": prior,
            "label_priors": extras["label_priors"],
            "embeddings": embeddings,
            "maps": maps,
            "model_sha256": sha256(folder / "model.pt"),
            "artifacts": artifacts,
            "torch_version": torch.__version__,
            "training": {"seconds": round(result.seconds, 2), "device": result.device,
                         "epochs": cfg.epochs},
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "report": report,
        }  # fmt: skip
        if extras["learned_prior"] is not None:
            flow, entry = extras["learned_prior"]
            manifest["learned_prior"] = with_metrics(
                entry, flow, model, manifest, classifier, data.test, cfg.seed
            )
        write_manifest(folder / "manifest.json", manifest)
    log.info(
        "%s: test MSE %.4f, kNN %.3f -> %s",
        cfg.folder_name,
        metrics["test_mse"],
        metrics["knn_accuracy"],
        out / cfg.folder_name,
    )
    return out / cfg.folder_name


def write_sprites(out: Path, dataset: str, data: Splits) -> None:
    """The sprite atlases of the test and the (whole) train split, once per dataset."""
    write_sprite(out, dataset, "test", data.test.images.numpy())
    parts = [data.train, data.val]
    index = torch.cat([p.index for p in parts if p.index is not None])
    images = torch.cat([p.images for p in parts])
    if len(index) == len(images):  # source order: position i is train image i
        write_sprite(out, dataset, "train", images[index.argsort()].numpy())


def evaluation_classifier(cfg: TrainConfig, data: Splits, device: str) -> DigitClassifier | None:
    """The project's cached classifier (trained on first use), or None when not wanted."""
    if not cfg.sample_quality:
        return None
    from trainer.quality import load_or_train

    return load_or_train(data, cfg.dataset, Path(cfg.cache_dir), torch.device(device))


@torch.no_grad()
def decode_prior(model: nn.Module, prior: dict[str, Any], n: int, seed: int) -> torch.Tensor:
    """Decode n latents drawn from the manifest prior: z = mean + L eps (or std * eps)."""
    gen = torch.Generator().manual_seed(seed)
    mean = torch.tensor(prior["mean"])
    eps = torch.randn(n, len(mean), generator=gen)
    if prior["scale_tril"] is not None:
        z = mean + eps @ torch.tensor(prior["scale_tril"]).T
    else:
        z = mean + eps * torch.tensor(prior["std"])
    return torch.cat([model.decode(c.float()) for c in z.split(1000)])  # type: ignore[operator]


def pca_fit(z: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (D, dims) axes; the identity when D == dims (the latent is its own view)."""
    if z.shape[1] == dims:
        return np.zeros(dims, np.float32), np.eye(dims, dtype=np.float32)
    mean = z.mean(0)
    _, _, vt = np.linalg.svd(z - mean, full_matrices=False)
    return mean, vt[:dims].T


def project(z: torch.Tensor, pca: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The 3-D view of latents: (z - mean) @ axes, as save_embeddings stores it."""
    return ((z.numpy() - pca[0]) @ pca[1]).astype(np.float32)


def compute_metrics(
    cfg: TrainConfig,
    model: nn.Module,
    result: FitResult,
    data: Splits,
    train_z: torch.Tensor,
    test_z: torch.Tensor,
    samples: torch.Tensor,
    classifier: DigitClassifier | None,
) -> dict[str, Any]:
    from trainer.quality import sample_quality

    mse = ev.reconstruction_mse(model, data.test)
    quality = None
    if classifier is not None:
        quality = sample_quality(classifier, samples, data.test)
    return {
        "test_mse": mse,
        "test_psnr": ev.psnr(mse),
        "train_loss": result.history.train_loss[-1],
        "val_loss": result.history.val_loss[-1],
        "knn_accuracy": ev.knn_accuracy(train_z, data.train.labels, test_z, data.test.labels),
        "silhouette": ev.silhouette(test_z, data.test.labels, seed=cfg.seed),
        "pca_mse": ev.pca_mse(data.train, data.test, int(test_z.shape[1])),
        "test_elbo": ev.test_elbo(model, data.test) if isinstance(model, VAES) else None,
        "sample_quality": quality,
    }


@torch.no_grad()
def report_inputs(
    cfg: TrainConfig,
    model: nn.Module,
    result: FitResult,
    data: Splits,
    train_z: torch.Tensor,
    test_z: torch.Tensor,
    tsne: np.ndarray,
    samples: torch.Tensor,
    pca: tuple[np.ndarray, np.ndarray],
) -> ReportInputs:
    test = data.test
    originals = test.pixels()[:16]
    n_snap = len(result.history.snapshots[0].latents) if result.history.snapshots else 0
    convbn = convbn_views(model, test) if cfg.model == "convbn" else (None, None, None)
    return ReportInputs(
        name=cfg.folder_name,
        model=cfg.model,
        label_names=data.label_names,
        history=result.history,
        snapshot_originals=test.pixels(probe_indices(test)).numpy(),
        snapshot_labels=test.labels[:n_snap].numpy(),
        train_view3d=project(train_z, pca),
        train_labels=data.train.labels.numpy(),
        test_latents=test_z.numpy(),
        test_view3d=project(test_z, pca),
        test_tsne=tsne,
        test_labels=test.labels.numpy(),
        originals=originals.numpy(),
        reconstructions=model(originals).numpy(),
        samples=samples.numpy(),
        feature_maps=convbn[0],
        feature_digit=convbn[1],
        digit_rows=convbn[2],
    )


def convbn_views(model: nn.Module, test: Split) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One digit's 32 feature maps, and per label: original, mean activation map, recon."""
    first = test.pixels(probe_indices(test))  # (10, 1, 28, 28), one per label
    maps = model.feature_map(first[:1])[0]  # type: ignore[operator]  # (32, 7, 7)
    rows = []
    for label, x in enumerate(first):
        members = test.pixels((test.labels == label).nonzero().flatten())
        act = model.feature_map(members).mean((0, 1))[None, None]  # type: ignore[operator]
        act = F.interpolate(act, size=(28, 28), mode="nearest")[0, 0]
        act = (act - act.min()) / (act.max() - act.min() + 1e-8)
        rows.append(torch.stack([x[0], act, model(x[None])[0, 0]]))
    return maps.numpy(), first[0, 0].numpy(), torch.stack(rows).numpy()

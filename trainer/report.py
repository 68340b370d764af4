"""Report pictures and animations for one trained model (written into <folder>/report/).

Figures use matplotlib's object API (Figure + Agg canvas), never pyplot: no GUI backend,
no global figure registry, so nothing to close or leak between calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mpl_toolkits.mplot3d import Axes3D
from PIL import Image

from trainer import figures as fg
from trainer.figures import Limits
from trainer.train import History

DPI = 90  # small files: the whole report of a 20-epoch run stays well under 2.5 MB
TRAIN_POINTS = 10_000  # train latents drawn in the 3-D scatter; more only slows rendering
FRAME_MS = 400  # GIF frame duration
LAST_FRAME_MS = 2500  # hold the last epoch so the eye can rest on the result


@dataclass
class ReportInputs:
    """Everything the pictures need, as CPU numpy arrays; no model, no torch work."""

    name: str  # folder name, e.g. "mlp3d" or "fashion-vae"
    model: str  # zoo design, e.g. "convbn"
    label_names: list[str]  # 10 names, index = label
    history: History  # train_loss/val_loss per epoch; snapshots (epoch, latents (n, D),
    # recon (10, 1, 28, 28))
    snapshot_originals: np.ndarray  # (10, 1, 28, 28): the digits whose recon the snapshots hold
    snapshot_labels: np.ndarray  # (n,) labels of the snapshot latents (the first n test images)
    train_view3d: np.ndarray  # (N_train, 3) 3-D view of train latents (same projection as test)
    train_labels: np.ndarray  # (N_train,)
    test_latents: np.ndarray  # (N_test, D)
    test_view3d: np.ndarray  # (N_test, 3): the latent itself when D == 3, else PCA to 3
    test_tsne: np.ndarray  # (N_test, 2)
    test_labels: np.ndarray  # (N_test,)
    originals: np.ndarray  # (16, 1, 28, 28) test images in [0, 1]
    reconstructions: np.ndarray  # (16, 1, 28, 28) their reconstructions
    samples: np.ndarray  # (64, 1, 28, 28) decoded prior samples
    feature_maps: np.ndarray | None  # convbn only: (32, 7, 7) encoder maps of one test digit
    feature_digit: np.ndarray | None  # convbn only: (28, 28) that digit
    digit_rows: np.ndarray | None  # convbn only: (10, 3, 28, 28) per label: original,
    # averaged latent activation map (mean over channels, upsampled to 28x28, scaled to
    # [0, 1]), reconstruction


def write_report(folder: Path, inputs: ReportInputs) -> list[str]:
    """Write every picture that applies into folder/report/; return their file names."""
    out = Path(folder) / "report"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for file, draw in pictures(inputs).items():
        draw().savefig(out / file)
        written.append(file)
    if inputs.history.snapshots:
        save_gif(latent_frames(inputs), out / "latent_epochs.gif")
        save_gif(reconstruction_frames(inputs), out / "reconstruction_epochs.gif")
        written += ["latent_epochs.gif", "reconstruction_epochs.gif"]
    return written


def pictures(inputs: ReportInputs) -> dict[str, Callable[[], Figure]]:
    """The still pictures by file name, drawn lazily so one figure is alive at a time."""
    i, name, names = inputs, inputs.name, inputs.label_names
    raw = i.test_latents.shape[1] == 3
    view = "raw 3-D latent" if raw else f"PCA to 3 of the {i.test_latents.shape[1]}-D latent"
    axes = ("z1", "z2", "z3") if raw else ("PC1", "PC2", "PC3")
    train = fg.subsample(len(i.train_view3d), TRAIN_POINTS)
    train_title = f"{name}: train latents ({len(train):,} sampled), {view}"
    todo: dict[str, Callable[[], Figure]] = {
        "loss_curves.png": lambda: loss_curves(i.history, name, i.model),
        "latent_train_3d.png": lambda: scatter_3d(
            i.train_view3d[train], i.train_labels[train], names, train_title, axes
        ),
        "latent_test_3d.png": lambda: scatter_3d(
            i.test_view3d, i.test_labels, names, f"{name}: test latents, {view}", axes
        ),
        "tsne_test.png": lambda: scatter_2d(
            i.test_tsne,
            i.test_labels,
            names,
            f"{name}: t-SNE of test latents",
            ("t-SNE 1", "t-SNE 2"),
        ),
        "pca_test.png": lambda: pca_picture(i.test_latents, i.test_labels, names, name),
        "reconstructions.png": lambda: reconstructions(
            i.originals, i.reconstructions, f"{name}: test originals and reconstructions"
        ),
        "samples.png": lambda: image_grid(i.samples, 8, f"{name}: 64 decoded prior samples"),
    }
    if i.feature_maps is not None and i.feature_digit is not None:
        maps, digit = i.feature_maps, i.feature_digit
        todo["feature_maps.png"] = lambda: feature_maps(maps, digit, name)
    if i.digit_rows is not None:
        rows = i.digit_rows
        todo["digit_rows.png"] = lambda: digit_rows(rows, names, name)
    return todo


def loss_curves(history: History, name: str, model: str) -> Figure:
    """Train and val loss per epoch."""
    fig = Figure(figsize=(5, 3.6), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    epochs = np.arange(1, len(history.train_loss) + 1)
    ax.plot(epochs, history.train_loss, "o-", markersize=3, label="train")
    ax.plot(epochs[: len(history.val_loss)], history.val_loss, "o-", markersize=3, label="val")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(title=f"{name}: loss per epoch", xlabel="epoch")
    ax.set_ylabel("negative ELBO (nats / image)" if model == "vae" else "MSE per pixel")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def scatter_3d(
    points: np.ndarray,
    labels: np.ndarray,
    names: list[str],
    title: str,
    axes: Sequence[str],
    limits: Limits | None = None,
) -> Figure:
    """3-D scatter of points (n, 3) coloured by label, within `limits` (default: robust).

    mplot3d does not clip to the box, and a few far outliers would shrink the cloud to a
    corner, so points outside the limits (the extreme ~0.5% per axis) are left out.
    """
    fig = Figure(figsize=(5.6, 4.4), dpi=DPI, layout="constrained")
    ax = cast(Axes3D, fig.add_subplot(projection="3d"))
    lo, hi = fg.robust_limits(points) if limits is None else limits
    order = fg.subsample(len(points), len(points))  # random draw order: no class paints last
    order = order[np.all((points[order] >= lo) & (points[order] <= hi), axis=1)]
    p = points[order]
    ax.scatter(
        p[:, 0], p[:, 1], p[:, 2], c=fg.colours(labels[order]), s=fg.dot_size(len(p)), linewidths=0
    )
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    ax.set_zlim(lo[2], hi[2])
    ax.set(xlabel=axes[0], ylabel=axes[1])
    ax.set_zlabel(axes[2], labelpad=8)  # clear of the z tick labels
    ax.set_box_aspect(None, zoom=0.95)  # room for the z label inside the figure
    ax.tick_params(labelsize="x-small")
    fig.suptitle(title, fontsize="medium")
    fg.legend(fig, names)
    return fig


def scatter_2d(
    points: np.ndarray, labels: np.ndarray, names: list[str], title: str, axes: Sequence[str]
) -> Figure:
    """2-D scatter of points (n, 2) coloured by label."""
    fig = Figure(figsize=(5.6, 4.4), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    order = fg.subsample(len(points), len(points))
    colours, size = fg.colours(labels[order]), fg.dot_size(len(points))
    ax.scatter(points[order, 0], points[order, 1], c=colours, s=size, linewidths=0)
    ax.set(title=title, xlabel=axes[0], ylabel=axes[1])
    fg.legend(fig, names)
    return fig


def pca_picture(latents: np.ndarray, labels: np.ndarray, names: list[str], name: str) -> Figure:
    """First two principal components of the latents (the raw latent when D <= 2)."""
    if latents.shape[1] <= 2:
        return scatter_2d(latents, labels, names, f"{name}: test latents", ("z1", "z2"))
    scores, ratio = pca(latents, 2)
    axes = [f"PC{i + 1} ({100 * r:.0f}% of variance)" for i, r in enumerate(ratio)]
    title = f"{name}: PCA of test latents (D={latents.shape[1]})"
    return scatter_2d(scores, labels, names, title, axes)


def pca(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores (n, k) on the top-k principal components, and their explained-variance ratios."""
    centred = np.asarray(x, dtype=np.float64) - np.mean(x, axis=0)
    k = min(k, *centred.shape)
    if centred.shape[1] <= 256:  # exact: eigenvectors of the D x D scatter matrix, largest first
        basis = np.linalg.eigh(centred.T @ centred)[1][:, ::-1][:, :k]
    else:
        basis = _randomized_basis(centred, k)
    scores = centred @ basis
    total = max(float(np.sum(centred**2)), 1e-12)
    return scores, np.sum(scores**2, axis=0) / total


def _randomized_basis(centred: np.ndarray, k: int) -> np.ndarray:
    """Top-k right singular vectors (D, k) by randomized SVD with power iterations.

    Halko, Martinsson & Tropp 2011, alg. 4.4: an exact SVD of the 10,000 x 1,568 convbn
    latents takes about a minute on 2 cores, this a second or two.
    """
    rng = np.random.default_rng(0)
    q = centred @ rng.standard_normal((centred.shape[1], k + 10))
    for _ in range(3):  # power iterations sharpen the spectrum so the top k are accurate
        q = np.linalg.qr(q)[0]
        q = centred @ (centred.T @ q)
    q = np.linalg.qr(q)[0]
    vt = np.linalg.svd(q.T @ centred, full_matrices=False)[2]
    return vt[:k].T


def reconstructions(originals: np.ndarray, recon: np.ndarray, title: str, cols: int = 8) -> Figure:
    """Rows of `cols` originals (n, 1, 28, 28), each directly above their reconstructions."""
    rows, labels = [], []
    for start in range(0, len(originals), cols):
        rows += [originals[start : start + cols, 0], recon[start : start + cols, 0]]
        labels += ["original", "reconstruction"]
    fig = Figure(figsize=(0.55 * cols + 1.0, 0.6 * len(rows) + 0.4), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    fg.show_mosaic(ax, fg.mosaic(rows, cols))
    ax.set_yticks(fg.row_centres(len(rows), originals.shape[-2]), labels, fontsize="small")
    ax.set_title(title, fontsize="medium")
    return fig


def image_grid(images: np.ndarray, cols: int, title: str) -> Figure:
    """A grid of (n, 1, 28, 28) images in [0, 1], `cols` per row."""
    rows = [images[start : start + cols, 0] for start in range(0, len(images), cols)]
    fig = Figure(figsize=(0.55 * cols, 0.55 * len(rows) + 0.4), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    fg.show_mosaic(ax, fg.mosaic(rows, cols))
    ax.set_title(title, fontsize="medium")
    return fig


def feature_maps(maps: np.ndarray, digit: np.ndarray, name: str) -> Figure:
    """The input digit beside its (C, h, w) encoder feature maps, on one shared colour scale."""
    fig = Figure(figsize=(7.2, 3.2), dpi=DPI, layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 2.4])
    fg.show_mosaic(left, digit)
    left.set_title("input digit", fontsize="small")
    # One scale for all maps, so a weak channel looks weak rather than stretched to noise.
    lo, hi = min(0.0, float(maps.min())), max(float(maps.max()), 1e-8)
    grid = [maps[start : start + 8] for start in range(0, len(maps), 8)]
    shown = fg.show_mosaic(right, fg.mosaic(grid, 8), "viridis", lo, hi)
    fig.colorbar(shown, ax=right, shrink=0.8, label="activation")
    size = f"{maps.shape[1]}x{maps.shape[2]}"
    right.set_title(f"the {len(maps)} encoder feature maps ({size})", fontsize="small")
    fig.suptitle(f"{name}: encoder feature maps of one test digit", fontsize="medium")
    return fig


def digit_rows(rows: np.ndarray, names: list[str], name: str) -> Figure:
    """Per label: original, mean latent activation map (viridis), reconstruction."""
    fig = Figure(figsize=(3.6, 0.62 * len(rows) + 0.7), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, 3)
    columns = ("original", "mean latent\nactivation", "reconstruction")
    for col, (ax, title) in enumerate(zip(axes, columns, strict=True)):
        column = [image[None] for image in rows[:, col]]  # one image per mosaic row
        fg.show_mosaic(ax, fg.mosaic(column, 1), "viridis" if col == 1 else "gray")
        ax.set_title(title, fontsize="small")
    axes[0].set_yticks(fg.row_centres(len(rows), rows.shape[-2]), names[: len(rows)])
    fig.suptitle(f"{name}: per-label digits", fontsize="medium")
    return fig


def latent_frames(inputs: ReportInputs) -> list[np.ndarray]:
    """One RGB frame per snapshot: the 3-D view of the snapshot latents at that epoch."""
    snaps = inputs.history.snapshots
    views = views_3d([np.asarray(s.latents, dtype=np.float32) for s in snaps])
    raw = np.asarray(snaps[0].latents).shape[1] == 3
    axes = ("z1", "z2", "z3") if raw else ("PC1", "PC2", "PC3")
    kind = "raw 3-D latent" if raw else f"PCA to 3 of {np.asarray(snaps[0].latents).shape[1]}-D"
    labels = np.asarray(inputs.snapshot_labels)[: len(views[0])]
    limits = fg.robust_limits(np.concatenate(views))  # fixed across frames, so growth is visible
    frames = []
    for s, view in zip(snaps, views, strict=True):
        title = f"{inputs.name}: test latents, epoch {s.epoch} ({kind})"
        frames.append(fg.render(scatter_3d(view, labels, inputs.label_names, title, axes, limits)))
    return frames


def views_3d(latents: list[np.ndarray]) -> list[np.ndarray]:
    """Each epoch's latents (n, D) in 3-D: raw when D <= 3 (zero-padded), else PCA to 3.

    PCA signs are arbitrary per fit; each component is flipped to agree with the previous
    epoch's so the animated cloud does not mirror between frames.
    """
    views: list[np.ndarray] = []
    for z in latents:
        if z.shape[1] <= 3:
            views.append(np.pad(z, ((0, 0), (0, 3 - z.shape[1]))))
            continue
        view = pca(z, 3)[0]
        if views:
            view *= np.where(np.sum(view * views[-1], axis=0) < 0, -1.0, 1.0)
        views.append(view)
    return views


def reconstruction_frames(inputs: ReportInputs) -> list[np.ndarray]:
    """One RGB frame per snapshot: the probe digits over their reconstruction at that epoch."""
    originals = np.asarray(inputs.snapshot_originals)
    frames = []
    for s in inputs.history.snapshots:
        title = f"{inputs.name}: reconstructions, epoch {s.epoch}"
        recon = np.asarray(s.recon, dtype=np.float32)
        fig = reconstructions(originals, recon, title, cols=len(originals))
        frames.append(fg.render(fig))
    return frames


def save_gif(frames: list[np.ndarray], path: Path) -> None:
    """Looping palette GIF of RGB frames, the last frame held longer."""
    # Fast octree per frame keeps the tab10 label colours exact; a median-cut palette shared
    # across frames merged the small legend and point colours into wrong hues.
    indexed = [
        Image.fromarray(f).quantize(
            colors=128, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        for f in frames
    ]
    durations = [FRAME_MS] * (len(frames) - 1) + [LAST_FRAME_MS]
    indexed[0].save(
        path, save_all=True, append_images=indexed[1:], duration=durations, loop=0, optimize=True
    )

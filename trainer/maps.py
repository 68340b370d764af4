"""2-D maps of the latents for the explorer, computed at export so the service only reads
them: PCA 2-D (the top two principal axes of the train latents) and UMAP (umap-learn,
McInnes et al. 2018, arXiv:1802.03426), for the test and the train split in one coordinate
system, written beside the embeddings as maps.npz and maps-train.npz.

UMAP is fitted on a seeded subsample of the train split (FIT_SIZE points: a fit of all 60,000
takes minutes a model on a CPU); every other point is placed at the distance-weighted mean of
its PLACE_K nearest fitted points, which is how umap-learn's own transform starts (its
init_graph_transform) before it refines, at a small share of transform's cost."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

FIT_SIZE = 10_000  # train points UMAP is fitted on (all of them when fewer)
PLACE_K = 10  # fitted neighbours that place every other point
PCA_BEFORE = 50  # wider latents (convbn: 1568) are reduced to this many PCA dims first
N_NEIGHBORS, MIN_DIST = 15, 0.1  # umap-learn's defaults
FILES = {"test": "maps.npz", "train": "maps-train.npz"}


def pca_axes(z: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and (D, dims) principal axes of `z` (dims <= D)."""
    mean = z.mean(0)
    _, _, vt = np.linalg.svd(z - mean, full_matrices=False)
    return mean.astype(np.float32), vt[:dims].T.astype(np.float32)


def umap_maps(
    train: np.ndarray, test: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """UMAP positions (N, 2) of the train and test latents, and how they were made."""
    from sklearn.neighbors import NearestNeighbors

    with warnings.catch_warnings():  # umap-learn warns that TensorFlow (ParametricUMAP) is absent
        warnings.simplefilter("ignore", ImportWarning)
        import umap

    started = time.perf_counter()
    reduced = train.shape[1] > PCA_BEFORE
    if reduced:
        mean, axes = pca_axes(train, PCA_BEFORE)
        train, test = (train - mean) @ axes, (test - mean) @ axes
    rng = np.random.default_rng(seed)
    fit = np.sort(rng.permutation(len(train))[: min(FIT_SIZE, len(train))])
    n_neighbors = min(N_NEIGHBORS, len(fit) - 1)
    reducer = umap.UMAP(
        n_components=2, n_neighbors=n_neighbors, min_dist=MIN_DIST, random_state=seed, n_jobs=1
    )
    fitted = reducer.fit_transform(train[fit]).astype(np.float32)
    knn = NearestNeighbors(n_neighbors=min(PLACE_K, len(fit))).fit(train[fit])

    def place(x: np.ndarray) -> np.ndarray:
        dist, idx = knn.kneighbors(x)
        weights = 1.0 / (dist + 1e-6)
        return ((fitted[idx] * weights[..., None]).sum(1) / weights.sum(1, keepdims=True)).astype(
            np.float32
        )

    train_map = place(train)
    train_map[fit] = fitted
    test_map = place(test)
    how = {
        "fit_on": "train", "fit_size": len(fit), "placed_with": f"{PLACE_K}-NN weighted mean",
        "n_neighbors": n_neighbors, "min_dist": MIN_DIST, "metric": "euclidean",
        "pca_before": PCA_BEFORE if reduced else None, "seed": seed,
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    return train_map, test_map, how


def write_maps(folder: Path, train: np.ndarray, test: np.ndarray, seed: int) -> dict[str, Any]:
    """maps.npz and maps-train.npz in `folder` (keys umap2d, pca2d, each (N, 2) float32, rows
    in the order of the split's embeddings file); returns the manifest's "maps" entry."""
    from trainer.export import sha256

    train, test = train.astype(np.float32), test.astype(np.float32)
    mean, axes = pca_axes(train, 2)
    umap_train, umap_test, how = umap_maps(train, test, seed)
    entry: dict[str, Any] = {"views": ["umap2d", "pca2d"], "umap": how,
                             "pca2d": {"mean": mean.tolist(), "axes": axes.tolist()}}  # fmt: skip
    for split, z, um in (("test", test, umap_test), ("train", train, umap_train)):
        path = folder / FILES[split]
        tmp = folder / f".{path.name}.{os.getpid()}.npz"
        np.savez_compressed(tmp, umap2d=um, pca2d=((z - mean) @ axes).astype(np.float32))
        tmp.replace(path)
        entry[split] = {"file": path.name, "count": len(z), "sha256": sha256(path)}
    return entry

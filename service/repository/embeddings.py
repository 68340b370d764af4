"""The precomputed embeddings of one model, per split (test, train, or all: train then
test), and their HTTP bodies rendered once per (format, offset, limit) and kept with their
gzip and strong ETag, so warm requests only copy. The test split loads at start-up; the train
split (60,000 points) is read on its first request."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from service.errors import InvalidInput
from service.repository.arrow import ARROW_MEDIA_TYPE, arrow_stream
from service.repository.manifest import Manifest

Format = Literal["json", "csv", "tsv", "tsv-metadata", "arrow"]
SplitName = Literal["test", "train", "all"]
MEDIA_TYPES: dict[str, str] = {
    "arrow": ARROW_MEDIA_TYPE,
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "tsv-metadata": "text/tab-separated-values; charset=utf-8",
}
_CACHE_SIZE = 32  # rendered bodies kept per model


@dataclass(frozen=True)
class Rendered:
    body: bytes
    gzipped: bytes
    etag: str  # strong, of `body`; the gzip variant's tag is derived (etag_for)
    media_type: str

    def etag_for(self, gzip_it: bool) -> str:
        return self.etag[:-1] + '-gz"' if gzip_it else self.etag


@dataclass(repr=False)
class EmbeddingTable:
    model: str
    manifest: Manifest
    labels: np.ndarray[Any, np.dtype[np.int64]]  # (N,)
    index: np.ndarray[Any, np.dtype[np.int64]]  # (N,)
    view3d: np.ndarray[Any, np.dtype[np.float32]]  # (N, 3)
    tsne2d: np.ndarray[Any, np.dtype[np.float32]] | None  # (N, 2)
    latents: np.ndarray[Any, np.dtype[np.float32]] | None  # (N, D), absent when D is large
    split: str = "test"
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)  # split -> [start, stop)
    folder: Path | None = None  # where the other splits' files are
    maps: dict[str, np.ndarray[Any, np.dtype[np.float32]]] = field(default_factory=dict)  # (N, 2)
    _cache: OrderedDict[tuple[str, int, int], Rendered] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _splits: dict[str, EmbeddingTable] = field(default_factory=dict)

    @classmethod
    def load(
        cls, path: Path, model: str, manifest: Manifest, split: str = "test"
    ) -> EmbeddingTable:
        """One split's file; `split` names its entry (the test split: the top-level one)."""
        spec = manifest.embeddings if split == "test" else manifest.embeddings.splits[split]
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        table = cls(
            model,
            manifest,
            arrays["labels"].astype(np.int64),
            arrays["index"].astype(np.int64),
            arrays["view3d"].astype(np.float32),
            _optional(arrays, "tsne2d"),
            _optional(arrays, "latents") if spec.has_latents else None,
            split,
            {split: (0, len(arrays["labels"]))},
            path.parent,
        )
        table.maps = _load_maps(path.parent, manifest, split, len(table))
        table._check(spec.count, spec.has_latents)
        return table

    def for_split(self, split: SplitName) -> EmbeddingTable:
        """This (test) table, or the train or all table, loaded on first use; a model folder
        without train embeddings is a 422 that says how to add them."""
        if split == "test":
            return self
        with self._lock:
            if split not in self._splits:
                self._splits[split] = self._load_split(split)
            return self._splits[split]

    def _load_split(self, split: str) -> EmbeddingTable:
        spec = self.manifest.embeddings.splits.get("train")
        if spec is None or self.folder is None:
            raise InvalidInput(
                f"model {self.model} has no train embeddings; run python -m trainer refresh",
                code="no_split",
            )
        train = EmbeddingTable.load(self.folder / spec.file, self.model, self.manifest, "train")
        return train if split == "train" else _concat(train, self)

    def _check(self, count: int, has_latents: bool) -> None:
        n = len(self.labels)
        if n != count:
            raise ValueError(f"embeddings hold {n} points; the manifest says {count}")
        shapes = {"index": (n,), "view3d": (n, 3), "tsne2d": (n, 2)}
        shapes["latents"] = (n, self.manifest.latent_dim)
        for key, shape in shapes.items():
            value = getattr(self, key)
            if value is not None and value.shape != shape:
                raise ValueError(f"embeddings {key} has shape {value.shape}, expected {shape}")
        if has_latents and self.latents is None:
            raise ValueError("manifest says has_latents but embeddings.npz has no latents")
        names = len(self.manifest.dataset.label_names)
        if n and (self.labels.min() < 0 or self.labels.max() >= names):
            raise ValueError(f"embeddings labels outside 0..{names - 1}")

    def __len__(self) -> int:
        return len(self.labels)

    def render(self, fmt: Format, offset: int, limit: int | None) -> Rendered:
        """The body for one slice and format, built once and then served from memory."""
        stop = len(self) if limit is None else min(len(self), offset + limit)
        key = (fmt, offset, stop)
        with self._lock:  # least recently used out: the plot's usual request stays warm
            if key in self._cache:
                self._cache.move_to_end(key)
            else:
                body = _RENDERERS[fmt](self, slice(offset, stop))
                self._cache[key] = _rendered(body, MEDIA_TYPES[fmt])
                if len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
            return self._cache[key]


def _load_maps(
    folder: Path, manifest: Manifest, split: str, n: int
) -> dict[str, np.ndarray[Any, np.dtype[np.float32]]]:
    """The split's 2-D maps (umap2d, pca2d) when the manifest lists them; a listed file that
    is missing or of the wrong shape makes the folder fail to load, like embeddings.npz."""
    spec = manifest.maps
    entry = None if spec is None else getattr(spec, split, None)
    if spec is None or entry is None:
        return {}
    with np.load(folder / entry.file, allow_pickle=False) as npz:
        maps: dict[str, np.ndarray[Any, np.dtype[np.float32]]] = {
            view: npz[view].astype(np.float32) for view in spec.views if view in npz.files
        }
    for view, values in maps.items():
        if values.shape != (n, 2):
            raise ValueError(f"{entry.file} {view} has shape {values.shape}, expected ({n}, 2)")
    return maps


def _optional(arrays: dict[str, Any], key: str) -> np.ndarray[Any, np.dtype[np.float32]] | None:
    return arrays[key].astype(np.float32) if key in arrays else None


def _concat(first: EmbeddingTable, second: EmbeddingTable) -> EmbeddingTable:
    """The two splits one after the other; a column only when both have it."""

    def both(a: Any, b: Any) -> Any:
        return None if a is None or b is None else np.concatenate([a, b])

    n = len(first)
    return EmbeddingTable(
        first.model,
        first.manifest,
        np.concatenate([first.labels, second.labels]),
        np.concatenate([first.index, second.index]),
        np.concatenate([first.view3d, second.view3d]),
        both(first.tsne2d, second.tsne2d),
        both(first.latents, second.latents),
        "all",
        {first.split: (0, n), second.split: (n, n + len(second))},
        maps={v: np.concatenate([first.maps[v], second.maps[v]])
              for v in first.maps if v in second.maps},
    )  # fmt: skip


def split_column(t: EmbeddingTable, sl: slice) -> list[str]:
    """Each point's split name, for the rows of `sl`."""
    out = np.empty(len(t), dtype=object)
    for name, (start, stop) in t.ranges.items():
        out[start:stop] = name
    return list(out[sl])


def _rendered(body: bytes, media_type: str) -> Rendered:
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    # mtime=0: the gzip bytes (and so their ETag) depend on the content only.
    return Rendered(body, gzip.compress(body, compresslevel=6, mtime=0), tag, media_type)


def _rounded(values: np.ndarray[Any, Any] | None, sl: slice) -> list[Any] | None:
    return None if values is None else np.round(values[sl].astype(np.float64), 5).tolist()


def _views(t: EmbeddingTable) -> list[str]:
    """The views this table can draw: the 3-D one, then its 2-D maps."""
    return ["view3d", *(["tsne2d"] if t.tsne2d is not None else []), *t.maps]


def _json(t: EmbeddingTable, sl: slice) -> bytes:
    m = t.manifest
    doc = {
        "model": t.model,
        "total": len(t),
        "offset": sl.start,
        "count": max(0, sl.stop - sl.start),
        "latent_dim": m.latent_dim,
        "latent_shape": m.latent_shape,
        "view3d_method": m.embeddings.view3d,
        "label_names": m.dataset.label_names,
        "split": t.split,
        "split_ranges": {name: list(r) for name, r in t.ranges.items()},
        "labels": t.labels[sl].tolist(),
        "index": t.index[sl].tolist(),
        "view3d": _rounded(t.view3d, sl),
        "latents": _rounded(t.latents, sl),
        "tsne2d": _rounded(t.tsne2d, sl),
        "views": _views(t),
        **{view: _rounded(values, sl) for view, values in t.maps.items()},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _csv(t: EmbeddingTable, sl: slice) -> bytes:
    names = t.manifest.dataset.label_names
    header = ["index", "label", "label_name", "x", "y", "z"]
    blocks = [t.view3d]
    if t.tsne2d is not None:
        header += ["tsne_x", "tsne_y"]
        blocks.append(t.tsne2d)
    for view, values in t.maps.items():
        header += [f"{view.removesuffix('2d')}_x", f"{view.removesuffix('2d')}_y"]
        blocks.append(values)
    if t.latents is not None:
        header += [f"z{i}" for i in range(t.latents.shape[1])]
        blocks.append(t.latents)
    numbers = np.round(np.hstack([b[sl] for b in blocks]).astype(np.float64), 5).tolist()
    labels, index = t.labels[sl].tolist(), t.index[sl].tolist()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    rows = ([i, y, names[y], *v] for i, y, v in zip(index, labels, numbers, strict=True))
    if t.split == "all":  # which split each row is from (index is a position in that split)
        header, splits = ["split", *header], split_column(t, sl)
        rows = ([s, *row] for s, row in zip(splits, rows, strict=True))
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _tsv_vectors(t: EmbeddingTable, sl: slice) -> bytes:
    """Embedding Projector vectors: one point per line, raw latents when stored."""
    vectors = t.latents if t.latents is not None else t.view3d
    out = io.StringIO()
    np.savetxt(out, vectors[sl], fmt="%.5g", delimiter="\t")
    return out.getvalue().encode()


def _tsv_metadata(t: EmbeddingTable, sl: slice) -> bytes:
    """Embedding Projector metadata, matching the vectors line for line."""
    names = t.manifest.dataset.label_names
    rows = [
        f"{names[label]}\t{index}"
        for label, index in zip(t.labels[sl].tolist(), t.index[sl].tolist(), strict=True)
    ]
    return ("label\tindex\n" + "".join(row + "\n" for row in rows)).encode()


def _arrow(t: EmbeddingTable, sl: slice) -> bytes:
    m = t.manifest
    meta = {
        "model": t.model, "total": len(t), "offset": sl.start, "count": max(0, sl.stop - sl.start),
        "latent_dim": m.latent_dim, "latent_shape": m.latent_shape,
        "view3d_method": m.embeddings.view3d, "label_names": m.dataset.label_names,
        "split": t.split, "split_ranges": {name: list(r) for name, r in t.ranges.items()},
        "views": _views(t),
    }  # fmt: skip
    columns = {"index": t.index[sl], "label": t.labels[sl], "view3d": t.view3d[sl]}
    columns["tsne2d"] = None if t.tsne2d is None else t.tsne2d[sl]
    columns["latents"] = None if t.latents is None else t.latents[sl]
    columns["maps"] = {view: values[sl] for view, values in t.maps.items()}
    return arrow_stream(columns, split_column(t, sl), meta)


_RENDERERS = {
    "json": _json, "csv": _csv, "tsv": _tsv_vectors, "tsv-metadata": _tsv_metadata,
    "arrow": _arrow,
}  # fmt: skip

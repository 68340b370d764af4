"""/embeddings?format=arrow: an Apache Arrow IPC stream, the columnar format that Embedding
Atlas, Perspective, DuckDB and Arrow JS read without parsing text. pyarrow is imported on the
first Arrow request, never at start-up (it costs ~0.1 s and ~40 MB a worker)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

ARROW_MEDIA_TYPE = "application/vnd.apache.arrow.stream"


def arrow_stream(columns: dict[str, Any], splits: list[str], meta: dict[str, Any]) -> bytes:
    """One record batch. Columns: split and label_name (dictionary-encoded strings), index
    (int32), label (int8), x, y, z (float32), tsne_x, tsne_y and latent (fixed-size list of
    D float32) when present, and umap_x, umap_y, pca_x, pca_y (float32) for the 2-D maps.
    The JSON body's other fields ride in the schema metadata."""
    import pyarrow as pa

    view3d, tsne, latents = columns["view3d"], columns["tsne2d"], columns["latents"]
    names = meta["label_names"]
    labels = columns["label"].astype(np.int8)
    arrays: dict[str, pa.Array] = {
        "split": pa.array(splits, pa.string()).dictionary_encode(),
        "index": pa.array(columns["index"].astype(np.int32)),
        "label": pa.array(labels),
        "label_name": pa.DictionaryArray.from_arrays(pa.array(labels), pa.array(names)),
        "x": pa.array(view3d[:, 0]),
        "y": pa.array(view3d[:, 1]),
        "z": pa.array(view3d[:, 2]),
    }
    if tsne is not None:
        arrays["tsne_x"], arrays["tsne_y"] = pa.array(tsne[:, 0]), pa.array(tsne[:, 1])
    for view, values in columns.get("maps", {}).items():
        prefix = view.removesuffix("2d")
        arrays[f"{prefix}_x"] = pa.array(values[:, 0])
        arrays[f"{prefix}_y"] = pa.array(values[:, 1])
    if latents is not None:
        flat = pa.array(np.ascontiguousarray(latents, np.float32).reshape(-1))
        arrays["latent"] = pa.FixedSizeListArray.from_arrays(flat, latents.shape[1])
    table = pa.table(arrays).replace_schema_metadata({"latentlab": json.dumps(meta)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())

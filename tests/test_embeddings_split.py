"""/embeddings?split=train|test|all and ?format=arrow: counts match the manifest, the Arrow
stream round-trips to the JSON body's numbers, and both revalidate with ETag/304."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from harness.fixture_models import FIXTURE_MODELS

SPLITS = ("test", "train", "all")


def manifest_of(models_dir: Path, model: str) -> dict[str, Any]:
    return json.loads((models_dir / model / "manifest.json").read_text())


def read_arrow(content: bytes) -> pa.Table:
    with pa.ipc.open_stream(content) as reader:
        return reader.read_all()


@pytest.mark.parametrize("model", FIXTURE_MODELS)
def test_split_counts_match_the_manifest(client: TestClient, models_dir: Path, model: str) -> None:
    spec = manifest_of(models_dir, model)["embeddings"]
    n_test, n_train = spec["count"], spec["splits"]["train"]["count"]
    bodies = {s: client.get(f"/embeddings?model={model}&split={s}") for s in SPLITS}
    for split, r in bodies.items():
        assert r.status_code == 200, r.text
        assert r.json()["split"] == split
    test, train, both = (bodies[s].json() for s in SPLITS)
    assert (test["total"], train["total"], both["total"]) == (n_test, n_train, n_test + n_train)
    assert both["split_ranges"] == {"train": [0, n_train], "test": [n_train, n_train + n_test]}
    assert both["labels"] == train["labels"] + test["labels"]
    assert both["index"] == train["index"] + test["index"]
    # The train split is the whole of it (the optimiser's part and the validation hold-out),
    # in source order.
    assert train["index"] == list(range(n_train))
    assert both["tsne2d"] is None and train["tsne2d"] is None  # t-SNE: test split only


def test_train_split_matches_its_file(client: TestClient, models_dir: Path) -> None:
    body = client.get("/embeddings?model=conv32&split=train").json()
    entry = manifest_of(models_dir, "conv32")["embeddings"]["splits"]["train"]
    with np.load(models_dir / "conv32" / entry["file"]) as npz:
        assert body["labels"] == npz["labels"].tolist()
        np.testing.assert_allclose(body["view3d"], npz["view3d"], atol=1e-5)
        np.testing.assert_allclose(body["latents"], npz["latents"].astype(np.float32), atol=1e-5)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("model", FIXTURE_MODELS)
def test_arrow_round_trips_to_the_json_numbers(client: TestClient, model: str, split: str) -> None:
    query = f"/embeddings?model={model}&split={split}"
    body = client.get(query).json()
    r = client.get(query + "&format=arrow")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = read_arrow(r.content)
    meta = json.loads(table.schema.metadata[b"latentlab"])
    for key in ("model", "total", "offset", "count", "latent_dim", "label_names", "split"):
        assert meta[key] == body[key], key
    assert meta["split_ranges"] == body["split_ranges"]
    cols = table.to_pydict()
    assert cols["label"] == body["labels"] and cols["index"] == body["index"]
    assert cols["label_name"] == [body["label_names"][y] for y in body["labels"]]
    view3d = np.stack([cols["x"], cols["y"], cols["z"]], 1)
    np.testing.assert_allclose(view3d, body["view3d"], atol=1e-5)
    np.testing.assert_allclose(np.array(cols["latent"]), body["latents"], atol=1e-5)
    if body["tsne2d"] is None:
        assert "tsne_x" not in cols
    else:
        tsne = np.stack([cols["tsne_x"], cols["tsne_y"]], 1)
        np.testing.assert_allclose(tsne, body["tsne2d"], atol=1e-5)
    ranges = body["split_ranges"]
    assert cols["split"] == [s for s, (a, b) in ranges.items() for _ in range(a, b)]


def test_arrow_slices_like_json(client: TestClient) -> None:
    body = client.get("/embeddings?split=all&offset=790&limit=20").json()
    table = read_arrow(client.get("/embeddings?split=all&offset=790&limit=20&format=arrow").content)
    assert table.num_rows == body["count"] == 20
    assert table.column("index").to_pylist() == body["index"]
    assert set(table.column("split").to_pylist()) == {"train", "test"}


def test_arrow_etag_304_and_gzip(client: TestClient) -> None:
    url = "/embeddings?format=arrow&split=all"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    etag = plain.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get(url, headers={"Accept-Encoding": "identity", "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["etag"] != etag
    assert zipped.content == plain.content  # the client undoes the gzip
    other = client.get("/embeddings?format=arrow&split=train", headers={"If-None-Match": etag})
    assert other.status_code == 200  # another split is another body


def test_csv_of_all_names_each_rows_split(client: TestClient) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get("/embeddings?format=csv&split=all").text)))
    body = client.get("/embeddings?split=all").json()
    assert len(rows) == body["total"]
    (a, b) = body["split_ranges"]["test"]
    assert {r["split"] for r in rows[a:b]} == {"test"} and rows[0]["split"] == "train"


def test_unknown_split_is_422(client: TestClient) -> None:
    r = client.get("/embeddings?split=validation")
    assert r.status_code == 422, r.text
    assert "train" in r.json()["error"]["message"]

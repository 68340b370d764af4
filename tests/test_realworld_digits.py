"""Photos of handwritten digits encode like MNIST digits (issue 10).

The fixture tests/fixtures/realworld/sample.npz holds 64 phone-photo-like JPEGs (200-1000 px,
dark ink on light paper, small and off centre, uneven light, noise, four pens) made from the
first 16 committed MNIST test digits by scripts/realworld_digits.py (seed 0). They go through
the real app over the committed conv32 and mlp32, several `file` parts per request, and their
latents must land among their own digit's stored test embeddings.
The full measurement (100 digits per pen, old vs new preprocessing): bench/bench_realworld.py.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from bench.bench_realworld import encode, knn_accuracy, service
from harness.realworld_digits import load_sample, load_variants
from service.images import preprocess
from service.images.codec import to_png

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "realworld" / "sample.npz"
MODELS = ("conv32", "mlp32")
FLOOR = 0.85  # 5-NN accuracy the photos must reach (clean digits: 98% on these models)


@pytest.fixture(scope="module")
def committed() -> Iterator[TestClient]:
    """The app over the committed conv32 and mlp32 only (the benchmark's own set-up)."""
    with service(list(MODELS)) as client:
        yield client


def test_the_fixture_is_what_the_docstring_says() -> None:
    variants = load_variants(FIXTURE)
    assert len(variants) == 64
    assert {v.pen for v in variants} == {"mnist", "fine", "ballpoint", "marker"}
    sizes = [max(Image.open(io.BytesIO(v.jpeg)).size) for v in variants]
    assert min(sizes) >= 200 and max(sizes) <= 1000


@pytest.mark.parametrize("model", MODELS)
def test_photos_land_in_their_digits_cluster(committed: TestClient, model: str) -> None:
    variants = load_variants(FIXTURE)
    rows = np.array([v.source for v in variants])
    labels = np.array([v.label for v in variants])
    photos = encode(committed, model, [v.jpeg for v in variants])
    images, _ = load_sample()
    clean_pngs = [to_png(images[r][None].astype(np.float32) / 255.0) for r in rows]
    clean = encode(committed, model, clean_pngs)
    photo_accuracy = knn_accuracy(model, photos, labels, rows)
    clean_accuracy = knn_accuracy(model, clean, labels, rows)
    assert photo_accuracy >= FLOOR, (photo_accuracy, clean_accuracy)
    assert photo_accuracy >= clean_accuracy - 0.1, (photo_accuracy, clean_accuracy)


def test_a_photo_becomes_the_digit_not_a_blob_in_a_corner(committed: TestClient) -> None:
    """The reconstruction's input is a centred MNIST-sized digit: its ink fills a 20 px box
    around the centre, as MNIST's do, whatever the photo's size and the digit's place."""
    for variant in load_variants(FIXTURE)[::8]:
        r = committed.post(
            "/reconstruct",
            headers={"Accept": "application/json"},
            files={"file": ("d.jpg", variant.jpeg, "image/jpeg")},
        )
        assert r.status_code == 200, r.text
        seen = np.asarray(r.json()["input"])
        rows, cols = np.flatnonzero((seen > 0.1).any(1)), np.flatnonzero((seen > 0.1).any(0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in range(18, 23)
        mass = np.array(np.nonzero(seen)).T.astype(float)
        centre = (mass * seen[seen > 0][:, None]).sum(0) / seen[seen > 0].sum()
        assert np.abs(centre - 14).max() < 1.5, centre


def test_real_mnist_digits_pass_through_unchanged() -> None:
    images, _ = load_sample()
    for digit in images:  # all 1,000 committed test digits
        x = digit.astype(np.float32) / 255.0
        assert np.abs(preprocess.mnist_like(x, None) - x).max() < 0.01


def test_any_image_shape_and_content_gives_a_digit_image() -> None:
    """Odd uploads (one pixel, one row, one column, blank, noise, a single dot) become a
    28x28 image in [0, 1], never an error: Schemathesis once found 1-pixel-wide images that
    made the background fit singular (a 500)."""
    rng = np.random.default_rng(0)
    shapes = [(1, 1), (1, 37), (45, 1), (2, 2), (3, 90), (28, 28), (33, 5), (120, 7)]
    for shape in shapes:
        contents = {
            "noise": rng.random(shape),
            "blank": np.full(shape, 0.7),
            "dot": np.pad(np.ones((1, 1)), ((0, shape[0] - 1), (0, shape[1] - 1))),
        }
        for kind, gray in contents.items():
            for invert in (None, True, False):
                out = preprocess.mnist_like(gray.astype(np.float32), invert)
                assert out.shape == (28, 28), (shape, kind)
                assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0

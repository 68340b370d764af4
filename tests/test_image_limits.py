"""What one upload may cost (issue 19): no digit is a 422, a request over its pixel budget is a
413 before anything is decoded, a full image pool is a 503 with Retry-After, and /metrics shows
the pool's queue and busy time."""

from __future__ import annotations

import io
import pickle
import threading
from collections.abc import Callable
from unittest import mock

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from service.errors import InvalidInput, NoDigit


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_a_blank_upload_is_422_no_digit(client: TestClient) -> None:
    for blank in (np.full((300, 400), 235), np.zeros((64, 64))):  # white page, black canvas
        r = client.post("/encode", files={"file": ("p.png", _png(blank), "image/png")})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "no_digit"
        assert "no digit found" in r.json()["error"]["message"]
    r = client.post("/encode", files={"file": ("z.png", _png(np.zeros((28, 28))), "image/png")})
    assert r.status_code == 200, r.text  # a 28x28 input is taken as given


def test_over_budget_batch_is_413_before_any_decoding(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(image_workers=0, max_request_pixels=1_000_000)  # decoding in-process
    big = _png(np.zeros((1000, 1000)))  # 1 Mpx each, a few KB on the wire
    parts = [("file", (f"{i}.png", big, "image/png")) for i in range(3)]
    with mock.patch("service.images.inputs.decode", side_effect=AssertionError("decoded")):
        r = client.post("/encode", files=parts)
    assert r.status_code == 413, r.text
    error = r.json()["error"]
    assert error["code"] == "request_too_large"
    assert "LATENTLAB_MAX_REQUEST_PIXELS" in error["message"] and "1,000,000" in error["message"]
    assert "1000x1000" in error["message"]


def test_a_12_mp_jpeg_is_decoded_at_draft_scale(make_client: Callable[..., TestClient]) -> None:
    """The budget counts what is decoded: a phone JPEG at 1/8 scale passes a budget that its
    full size would not, and still encodes (a PNG of the same size is refused)."""
    client = make_client(max_request_pixels=2_000_000)
    page = np.full((3000, 4000), 230, np.uint8)
    page[1000:2000, 1900:2000] = 20  # a `1`
    buf = io.BytesIO()
    Image.fromarray(page).save(buf, format="JPEG", quality=80)
    r = client.post("/encode", files={"file": ("p.jpg", buf.getvalue(), "image/jpeg")})
    assert r.status_code == 200, r.text
    r = client.post("/encode", files={"file": ("p.png", _png(page), "image/png")})
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"


def test_a_full_image_pool_is_503_with_retry_after(make_client: Callable[..., TestClient]) -> None:
    client = make_client(image_workers=0, image_queue=0)  # room for one upload at a time
    release, started = threading.Event(), threading.Event()

    def slow(*args: object) -> tuple[np.ndarray, bool]:
        started.set()
        release.wait(10)
        return np.zeros((1, 28, 28), np.float32), True

    digit = _png(np.pad(np.full((20, 4), 255), ((4, 4), (12, 12))))
    first: dict[str, int] = {}
    with mock.patch("service.images.pool.file_batch", slow):
        thread = threading.Thread(
            target=lambda: first.update(
                status=client.post("/encode", files={"file": ("a.png", digit)}).status_code
            )
        )
        thread.start()
        assert started.wait(10)
        r = client.post("/encode", files={"file": ("b.png", digit)})
        latent = client.post("/decode", json={"latent": [0.0, 0.0, 0.0]})
        release.set()
        thread.join(10)
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "1"
    assert r.json()["error"]["code"] == "image_pool_full"
    assert "LATENTLAB_IMAGE_QUEUE" in r.json()["error"]["message"]
    assert latent.status_code == 200, latent.text  # latent requests are not held up
    assert first["status"] == 200
    metrics = client.get("/metrics").text
    assert 'latentlab_image_pool_rejected_total{reason="full"} 1.0' in metrics


def test_metrics_show_the_pool_queue_and_busy_time(client: TestClient) -> None:
    digit = _png(np.pad(np.full((20, 4), 255), ((4, 4), (12, 12))))
    assert client.post("/encode", files={"file": ("d.png", digit)}).status_code == 200
    lines = client.get("/metrics").text.splitlines()
    busy = [ln for ln in lines if ln.startswith("latentlab_image_pool_busy_seconds_total")]
    assert busy and float(busy[0].split()[-1]) > 0
    assert any(ln.startswith("latentlab_image_pool_queue ") for ln in lines)


def test_errors_cross_the_pool_processes_with_their_code() -> None:
    for error in (NoDigit("nothing"), InvalidInput("bad", code="pixel_range")):
        back = pickle.loads(pickle.dumps(error))
        assert (type(back), back.code, back.message) == (type(error), error.code, error.message)

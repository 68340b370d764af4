"""Bad input gets one clear JSON error (never a 500, never a traceback) and the service
keeps serving."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from conftest import png_bytes
from fastapi.testclient import TestClient
from httpx2 import Response
from PIL import Image

from service.http.app import create_app


def assert_error(r: Response, status: int, code: str | None = None, *phrases: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert list(body) == ["error"], body
    err = body["error"]
    assert set(err) == {"code", "message", "status"} and err["status"] == status
    if code is not None:
        assert err["code"] == code, err
    for phrase in phrases:
        assert phrase in err["message"], err
    assert "Traceback" not in r.text and 'File "' not in r.text


def png_header(width: int, height: int) -> bytes:
    """A small PNG file that declares width x height (pixel data cut short)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


RAW = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("method", "url"),
    [("GET", "/sample"), ("GET", "/embeddings"), ("POST", "/decode"), ("POST", "/encode"),
     ("POST", "/reconstruct")],
)  # fmt: skip
def test_unknown_model_is_404_listing_the_names(client: TestClient, method: str, url: str):
    r = client.request(method, url, params={"model": "nope"}, json={"latent": [0, 0, 0]})
    assert_error(r, 404, "model_not_found", "'nope'", "conv32", "mlp3d")


def test_unknown_model_detail(client: TestClient) -> None:
    assert_error(client.get("/models/bad-hash"), 404, "model_not_found", "mlp3d")


@pytest.mark.parametrize(
    ("body", "code", "phrase"),
    [
        (b'{"latent": [NaN, 0, 0]}', "validation_error", "finite"),
        (b'{"latent": [Infinity, 0, 0]}', "validation_error", "finite"),
        (b'{"latents": [[0, 0, 0], [0, -Infinity, 0]]}', "validation_error", "finite"),
        (b'{"latent": [1e9, 0, 0]}', "validation_error", "body.latent.0"),
        (b'{"latent": [1, 2]}', "latent_size", "latent has 2 values; model mlp3d expects 3"),
        (b'{"latents": [[1, 2, 3], [1, 2]]}', "latent_size", "latents[1] has 2 values"),
        (b'{"latents": []}', "latent_size", "at least one"),
        (b"{}", "validation_error", "exactly one"),
        (b'{"latent": [1, 2, 3], "latents": [[1, 2, 3]]}', "validation_error", "exactly one"),
        (b'{"latent": "abc"}', "validation_error", "body.latent"),
        (b'{"latent": [0, 0, 0], "extra": 1}', "validation_error", "extra"),
        (b'{"latent": [0, 0', "validation_error", "JSON"),
    ],
)
def test_decode_rejects_bad_latents(client: TestClient, body: bytes, code: str, phrase: str):
    assert_error(client.post("/decode", content=body, headers=RAW), 422, code, phrase)


@pytest.mark.parametrize(
    ("body", "code", "phrase"),
    [
        (b'{"pixels": [NaN' + b", 0" * 783 + b"]}", "non_finite", "NaN"),
        (b'{"pixels": [Infinity' + b", 0" * 783 + b"]}", "non_finite", "infinite"),
        (b'{"pixels": [255' + b", 0" * 783 + b"]}", "pixel_range", "divide 8-bit values by 255"),
        (b'{"pixels": [-0.5' + b", 0" * 783 + b"]}", "pixel_range", "[0, 1]"),
        (b'{"pixels": [0' + b", 0" * 782 + b"]}", "pixels_shape", "[783]"),
        (b'{"pixels": [[0, 0], [0]]}', "pixels_shape", "equal length"),
        (b'{"pixels": "zeros"}', "pixels_shape", "784 values"),
        (b'{"pixels": []}', "pixels_shape", "784"),
        (b'{"image": [0]}', "invalid_input", '{"pixels"'),
        (b'{"pixels": [0, 0', "invalid_json", "not valid JSON"),
    ],
)
@pytest.mark.parametrize("url", ["/encode", "/reconstruct"])
def test_bad_pixels(client: TestClient, url: str, body: bytes, code: str, phrase: str) -> None:
    assert_error(client.post(url, content=body, headers=RAW), 422, code, phrase)


def _truncated_png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8)).save(buf, "PNG")
    return buf.getvalue()[:200]


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"content": b"hello, not an image", "headers": {"Content-Type": "image/png"}}, 415,
         "unsupported_media_type"),
        ({"files": {"file": ("a.txt", b"plain text", "text/plain")}}, 415,
         "unsupported_media_type"),
        ({"content": b"<svg/>", "headers": {"Content-Type": "image/svg+xml"}}, 415,
         "unsupported_media_type"),
        ({"content": b"x=1", "headers": {"Content-Type": "text/plain"}}, 415,
         "unsupported_media_type"),
        ({"content": _truncated_png(), "headers": {"Content-Type": "image/png"}}, 422,
         "bad_image"),
        ({"content": b"", "headers": {"Content-Type": "image/png"}}, 422, "bad_image"),
        ({"files": {"image": ("a.png", b"x", "image/png")}}, 422, "invalid_input"),
    ],
)  # fmt: skip
def test_bad_images(client: TestClient, kwargs: dict, status: int, code: str) -> None:
    assert_error(client.post("/encode", **kwargs), status, code)


@pytest.mark.parametrize(
    ("width", "height", "phrase"),
    [
        (5000, 5000, "25,000,000 pixels"),  # over LATENTLAB_MAX_PIXELS (16.7M)
        (10_000, 10_000, "bomb"),  # over Pillow's warning threshold (89M)
        (30_000, 30_000, "bomb"),  # over Pillow's hard limit (179M): raises in Image.open
    ],
)
def test_decompression_bomb_is_413(client: TestClient, width: int, height: int, phrase: str):
    bomb = png_header(width, height)
    assert len(bomb) < 10_000  # tiny on the wire
    r = client.post("/encode", content=bomb, headers={"Content-Type": "image/png"})
    assert_error(r, 413, "image_too_large", phrase)
    r = client.post("/reconstruct", files={"file": ("bomb.png", bomb, "image/png")})
    assert_error(r, 413, "image_too_large")


def test_body_over_the_cap_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=20_000)
    big = b"\x00" * 30_000
    r = client.post("/encode", content=big, headers={"Content-Type": "image/png"})
    assert_error(r, 413, "content_too_large", "20,000-byte limit")
    r = client.post("/encode", files={"file": ("big.png", big, "image/png")})
    assert_error(r, 413, "content_too_large")
    r = client.post("/decode", content=b'{"latent": [' + b"0," * 20_000 + b"0]}", headers=RAW)
    assert_error(r, 413, "content_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies as bytes arrive
        for _ in range(10):
            yield b"\x00" * 5_000

    r = client.post("/encode", content=chunks(), headers={"Content-Type": "image/png"})
    assert_error(r, 413, "content_too_large")
    ok = client.post("/encode", content=png_bytes(np.zeros((28, 28))),
                     headers={"Content-Type": "image/png"})  # fmt: skip
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    ("query", "code", "phrase"),
    [
        ("n=65", "n_cap", "n is 65; the limit is 64 (LATENTLAB_MAX_SAMPLES)"),
        ("n=0", "validation_error", "query.n"),
        ("n=abc", "validation_error", "query.n"),
        ("seed=-1", "validation_error", "query.seed"),
        ("scale=17", "scale_cap", "LATENTLAB_MAX_SCALE"),
        ("scale=0", "validation_error", "query.scale"),
    ],
)
def test_sample_limits(client: TestClient, query: str, code: str, phrase: str) -> None:
    assert_error(client.get(f"/sample?{query}"), 422, code, phrase)


@pytest.mark.parametrize(
    ("url", "phrase"),
    [("/embeddings?format=xml", "query.format"), ("/embeddings?limit=0", "query.limit"),
     ("/embeddings?offset=-1", "query.offset"), ("/encode?invert=maybe", "query.invert")],
)  # fmt: skip
def test_query_validation(client: TestClient, url: str, phrase: str) -> None:
    method = "POST" if url.startswith("/encode") else "GET"
    r = client.request(method, url, json={"pixels": [0] * 784})
    assert_error(r, 422, "validation_error", phrase)


def test_batch_over_the_cap(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_batch=2)
    r = client.post("/decode", json={"latents": [[0, 0, 0]] * 3})
    assert_error(r, 422, "batch_too_large", "LATENTLAB_MAX_BATCH")
    r = client.post("/encode", json={"pixels": [[0] * 784] * 3})
    assert_error(r, 422, "batch_too_large")
    png = png_bytes(np.zeros((28, 28)))
    r = client.post("/encode", files=[("file", (f"{i}.png", png, "image/png")) for i in range(3)])
    assert_error(r, 422, "batch_too_large")


def test_api_key(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_key="s3cret")
    z = {"latent": [0, 0, 0]}
    assert_error(client.post("/decode", json=z), 401, "unauthorized", "X-API-Key")
    assert_error(client.post("/decode", json=z, headers={"X-API-Key": "wrong"}), 401)
    assert_error(client.get("/models"), 401)
    assert_error(client.get("/embeddings"), 401)
    assert client.post("/decode", json=z, headers={"X-API-Key": "s3cret"}).status_code == 200
    for open_path in ("/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"):
        assert client.get(open_path).status_code == 200, open_path


def test_routing_errors_use_the_same_shape(client: TestClient) -> None:
    assert_error(client.get("/nowhere"), 404, "not_found", "/nowhere", "/docs")
    assert_error(client.get("/decode"), 405, "method_not_allowed", "GET")
    assert_error(client.post("/decode", content=b'{"latent": [0, 0, 0]}',
                             headers={"Content-Type": "text/plain"}), 422)  # fmt: skip


def test_unexpected_errors_are_a_generic_500(
    make_settings: Callable, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings())

    def boom() -> None:
        raise RuntimeError("secret internals at /srv/models")

    app.add_api_route("/boom", boom)
    with TestClient(app) as client:
        r = client.get("/boom")
        assert_error(r, 500, "internal_error")
        assert "secret" not in r.text
        assert "RuntimeError: secret internals" in caplog.text  # the log has the traceback
        assert client.get("/healthz").status_code == 200


def test_service_keeps_serving_after_bad_input(client: TestClient) -> None:
    client.post("/encode", content=b"junk", headers={"Content-Type": "image/png"})
    client.post("/decode", content=b'{"latent": [NaN, 0, 0]}', headers=RAW)
    r = client.post("/decode", json={"latent": [0, 0, 0]})
    assert r.status_code == 200, r.text

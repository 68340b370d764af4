"""Images in: /encode and /reconstruct, from multipart, raw bodies and JSON pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import open_png, png_bytes
from fastapi.testclient import TestClient
from PIL import Image, ImageOps


def _encode_pixels(client: TestClient, pixels: list, model: str = "mlp3d") -> dict:
    r = client.post(f"/encode?model={model}", json={"pixels": pixels})
    assert r.status_code == 200, r.text
    return r.json()


def _recon_json(client: TestClient, headers: dict | None = None, **kwargs) -> dict:
    headers = {"Accept": "application/json", **(headers or {})}
    r = client.post("/reconstruct", headers=headers, **kwargs)
    assert r.status_code == 200, r.text
    return r.json()


def test_encode_json_pixels_nested_and_flat_agree(client: TestClient, digits) -> None:
    x = digits[0][0]
    nested = _encode_pixels(client, x.tolist())
    flat = _encode_pixels(client, x.ravel().tolist())
    assert nested["model"] == "mlp3d"
    assert len(nested["latent"]) == 3
    assert nested["latent"] == flat["latent"]
    assert nested["view3d"] == nested["latent"]  # mlp3d: the latent is its own 3-D view


@pytest.mark.parametrize("shape", [(4, 28, 28), (4, 784)])
def test_encode_json_batch_matches_singles(client: TestClient, digits, shape) -> None:
    batch = digits[0][:4]
    out = _encode_pixels(client, batch.reshape(shape).tolist())
    singles = [_encode_pixels(client, x.tolist())["latent"] for x in batch]
    assert np.allclose(out["latents"], singles, atol=1e-4)
    assert len(out["view3d"]) == 4


def test_encode_matches_the_trainers_embeddings(client: TestClient, digits) -> None:
    """Same test image in -> the latent and 3-D point the trainer stored for it."""
    emb = client.get("/embeddings?model=conv32&limit=5").json()
    for row in range(5):
        x = digits[0][emb["index"][row]]
        out = _encode_pixels(client, x.tolist(), model="conv32")
        assert np.allclose(out["latent"], emb["latents"][row], atol=1e-3)
        assert np.allclose(out["view3d"], emb["view3d"][row], atol=1e-3)  # PCA view recovered


def test_image_uploads_agree_across_transports(client: TestClient, digits) -> None:
    png = png_bytes(digits[0][0])
    multipart = client.post("/encode", files={"file": ("d.png", png, "image/png")})
    raw = client.post("/encode", content=png, headers={"Content-Type": "image/png"})
    assert multipart.status_code == 200, multipart.text
    assert raw.status_code == 200, raw.text
    assert multipart.json() == raw.json()
    # A real MNIST digit is already centred the MNIST way: re-centring keeps it as it was.
    seen = _recon_json(client, content=png, headers={"Content-Type": "image/png"})["input"]
    assert np.abs(np.array(seen) - digits[0][0]).max() < 0.01


def test_multipart_batch(client: TestClient, digits) -> None:
    files = [("file", (f"{i}.png", png_bytes(digits[0][i]), "image/png")) for i in range(3)]
    r = client.post("/encode", files=files)
    assert r.status_code == 200, r.text
    assert len(r.json()["latents"]) == 3


def _photo_like(x: np.ndarray, mode: str, fmt: str) -> bytes:
    """The digit as a phone snap: dark ink on light paper, off-centre in a big colour image."""
    canvas = np.full((300, 420), 0.92, np.float32)  # light grey paper
    ink = np.kron(x, np.ones((8, 8), np.float32))  # 224x224
    canvas[40:264, 150:374] = 0.92 - 0.85 * ink  # dark ink
    img = Image.fromarray((canvas * 255).astype(np.uint8)).convert(mode)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize(("mode", "fmt"), [("RGB", "JPEG"), ("RGB", "PNG"), ("P", "GIF")])
def test_dark_on_light_photo_is_inverted_and_centred(client: TestClient, digits, mode, fmt):
    x = digits[0][7]
    body = _recon_json(client, files={"file": (f"d.{fmt}", _photo_like(x, mode, fmt))})
    seen = np.array(body["input"])
    assert seen.shape == (28, 28)
    assert ((seen - x) ** 2).mean() < 0.02  # the model saw (close to) the original digit


def test_invert_override(client: TestClient, digits) -> None:
    photo = _photo_like(digits[0][7], "RGB", "PNG")
    files = {"file": ("d.png", photo, "image/png")}
    auto = _recon_json(client, files=files)["input"]
    forced = _recon_json(client, files=files, params={"invert": "true"})["input"]
    assert auto == forced
    # Told the ink is lighter than the paper, the service finds nothing lighter: a clear 422,
    # not the latent of the paper read as ink.
    never = client.post("/reconstruct", files=files, params={"invert": "false"})
    assert never.status_code == 422, never.text
    assert never.json()["error"]["code"] == "no_digit"
    buf = io.BytesIO()  # the same photo as a negative: light ink on dark paper
    ImageOps.invert(Image.open(io.BytesIO(photo))).save(buf, format="PNG")
    negative = {"file": ("n.png", buf.getvalue(), "image/png")}
    as_light = _recon_json(client, files=negative, params={"invert": "false"})["input"]
    assert ((np.array(as_light) - np.array(auto)) ** 2).mean() < 0.01
    assert client.post("/reconstruct", files=negative, params={"invert": "true"}).status_code == 422


def test_transparent_canvas_drawing(client: TestClient, digits) -> None:
    """Black strokes on a transparent background (what a browser canvas exports)."""
    x = digits[0][9]
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = (x * 255).astype(np.uint8)  # ink is opaque black, the rest transparent
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").resize((112, 112)).save(buf, format="PNG")
    body = _recon_json(client, content=buf.getvalue(), headers={"Content-Type": "image/png"})
    assert ((np.array(body["input"]) - x) ** 2).mean() < 0.02


def test_16_bit_greyscale(client: TestClient, digits) -> None:
    x = digits[0][2]
    buf = io.BytesIO()
    Image.fromarray((x * 65535).astype(np.uint16)).save(buf, format="PNG")
    body = _recon_json(client, content=buf.getvalue(), headers={"Content-Type": "image/png"})
    assert ((np.array(body["input"]) - x) ** 2).mean() < 0.01


@pytest.mark.parametrize(("scale", "size"), [(1, 28), (4, 112)])
def test_reconstruct_png(client: TestClient, digits, scale: int, size: int) -> None:
    r = client.post(
        f"/reconstruct?model=conv32&scale={scale}",
        files={"file": ("d.png", png_bytes(digits[0][0]), "image/png")},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    img = open_png(r.content)
    assert img.size == (size, size)
    assert img.mode == "L"


def test_reconstruct_json_reports_a_small_mse_for_real_digits(client: TestClient, digits):
    xs = digits[0][:20]
    body = _recon_json(client, json={"pixels": xs.tolist()}, params={"model": "conv32"})
    recon, mse = np.array(body["pixels"]), np.array(body["mse"])
    assert recon.shape == (20, 28, 28)
    assert np.allclose(mse, ((recon - xs) ** 2).mean(axis=(1, 2)), atol=1e-3)
    baseline = ((xs - xs.mean(0)) ** 2).mean()  # guessing the mean digit
    assert mse.mean() < 0.05 and mse.mean() < 0.6 * baseline


def test_reconstruct_batch_png_is_a_grid(client: TestClient, digits) -> None:
    r = client.post("/reconstruct", json={"pixels": digits[0][:5].tolist()})
    assert r.status_code == 200, r.text
    assert open_png(r.content).size == (3 * 28, 2 * 28)  # 5 images: 3 columns, 2 rows

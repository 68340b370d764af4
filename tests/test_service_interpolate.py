"""Latents in: /interpolate decodes the line between two latents as a strip."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from conftest import open_png
from fastapi.testclient import TestClient
from test_service_errors import RAW, assert_error

JSON = {"Accept": "application/json"}
LINE = {"start": [0.0, -5.0, 0.0], "end": [10.0, 5.0, 8.0]}


@pytest.mark.parametrize(("steps", "scale", "size"), [(8, 1, (224, 28)), (2, 3, (168, 84))])
def test_strip_png(client: TestClient, steps: int, scale: int, size: tuple[int, int]) -> None:
    r = client.post(f"/interpolate?scale={scale}", json={**LINE, "steps": steps})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    img = open_png(r.content)
    assert (img.size, img.mode) == (size, "L")  # one row: (width, height)


def test_json_is_the_line_and_its_decodes(client: TestClient) -> None:
    r = client.post("/interpolate", json={**LINE, "steps": 5}, headers=JSON)
    assert r.status_code == 200, r.text
    body = r.json()
    latents = np.array(body["latents"])
    expected = np.linspace(LINE["start"], LINE["end"], 5)
    assert body["model"] == "mlp3d" and np.allclose(latents, expected, atol=1e-5)
    decoded = client.post("/decode", json={"latents": expected.tolist()}, headers=JSON).json()
    assert np.abs(np.array(body["pixels"]) - np.array(decoded["pixels"])).max() < 1e-3


def test_png_strip_matches_json(client: TestClient) -> None:
    strip = np.asarray(open_png(client.post("/interpolate", json=LINE).content)) / 255.0
    pixels = np.array(client.post("/interpolate", json=LINE, headers=JSON).json()["pixels"])
    assert pixels.shape == (8, 28, 28)  # steps defaults to 8
    assert np.abs(strip - np.concatenate(list(pixels), axis=1)).max() < 0.01


def test_between_two_real_digits(client: TestClient, digits) -> None:
    """From a 0 to a 1 in conv32's 32-D latent: the ends look like the two digits."""
    images, labels = digits
    zero, one = images[labels == 0][0], images[labels == 1][0]
    z = client.post("/encode?model=conv32", json={"pixels": [zero.tolist(), one.tolist()]}).json()
    body = {"start": z["latents"][0], "end": z["latents"][1], "steps": 6}
    r = client.post("/interpolate?model=conv32", json=body, headers=JSON)
    assert r.status_code == 200, r.text
    pixels = np.array(r.json()["pixels"])
    assert pixels.shape == (6, 28, 28)
    assert ((pixels[0] - zero) ** 2).mean() < ((pixels[0] - one) ** 2).mean()
    assert ((pixels[-1] - one) ** 2).mean() < ((pixels[-1] - zero) ** 2).mean()


@pytest.mark.parametrize(
    ("body", "code", "phrase"),
    [
        (b'{"start": [1, 2], "end": [0, 0, 0]}', "latent_size", "start has 2 values; model mlp3d"),
        (b'{"start": [0, 0, 0], "end": [0, 0, 0, 0]}', "latent_size", "end has 4 values"),
        (b'{"start": [NaN, 0, 0], "end": [0, 0, 0]}', "validation_error", "finite"),
        (b'{"start": [0, 0, 0], "end": [0, Infinity, 0]}', "validation_error", "finite"),
        (b'{"start": [0, 0, 0], "end": [0, 0, 0], "steps": 1}', "validation_error", "body.steps"),
        (b'{"start": [0, 0, 0], "end": [0, 0, 0], "steps": 2.5}', "validation_error", "body.steps"),
        (b'{"start": [0, 0, 0]}', "validation_error", "body.end"),
        (b'{"start": [0, 0, 0], "end": [0, 0, 0], "how": "slerp"}', "validation_error", "body.how"),
        (b'{"start": [0, 0', "validation_error", "JSON"),
    ],
)  # fmt: skip
def test_bad_requests(client: TestClient, body: bytes, code: str, phrase: str) -> None:
    assert_error(client.post("/interpolate", content=body, headers=RAW), 422, code, phrase)


def test_caps(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_batch=4, max_scale=2)
    r = client.post("/interpolate", json={**LINE, "steps": 5})
    assert_error(r, 422, "steps_cap", "steps is 5; the limit is 4", "LATENTLAB_MAX_BATCH")
    r = client.post("/interpolate?scale=3", json={**LINE, "steps": 4})
    assert_error(r, 422, "scale_cap", "LATENTLAB_MAX_SCALE")
    assert client.post("/interpolate?scale=2", json={**LINE, "steps": 4}).status_code == 200


def test_unknown_model_and_api_key(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_key="s3cret")
    key = {"X-API-Key": "s3cret"}
    assert_error(client.post("/interpolate", json=LINE), 401, "unauthorized")
    r = client.post("/interpolate?model=nope", json=LINE, headers=key)
    assert_error(r, 404, "model_not_found", "'nope'", "mlp3d")
    assert client.post("/interpolate", json=LINE, headers=key).status_code == 200


def test_openapi_documents_it_with_a_working_example(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/interpolate"]["post"]
    assert op["description"] or op["summary"]
    assert {"image/png", "application/json"} <= set(op["responses"]["200"]["content"])
    assert op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse"
    )
    example = spec["components"]["schemas"]["InterpolateRequest"]["examples"][0]
    r = client.post("/interpolate", json=example)
    assert r.status_code == 200, r.text
    assert open_png(r.content).size == (8 * 28, 28)

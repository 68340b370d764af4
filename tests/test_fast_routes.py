"""POST /decode and GET /sample take a fast route (service/http/fastpath.py) that skips
FastAPI's per-request work; whatever it is not sure of goes through FastAPI's route. Either
way a client must get the same answer: these compare the two on the inputs where they part."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from service.http.fastpath import FastRoute

Z = {"latent": [0.5, -1.0, 2.0]}
BODY = b'{"latent": [0.5, -1.0, 2.0]}'
COUNTED = r'latentlab_requests_total\{method="POST",model="mlp3d",route="/decode",status="200"\}'


def test_the_fast_routes_are_in_front(client: TestClient) -> None:
    app = client.app
    first = app.router.routes[:4]  # type: ignore[attr-defined]
    assert [(type(r), r.method, r.path) for r in first] == [
        (FastRoute, "POST", "/decode"),
        (FastRoute, "GET", "/sample"),
        (FastRoute, "POST", "/v2/models/{model_name}/infer"),
        (FastRoute, "POST", "/v2/models/{model_name}/versions/{model_version}/infer"),
    ]


def test_decode_answers_the_same_whichever_route_takes_it(client: TestClient) -> None:
    fast = client.post("/decode?model=mlp3d&version=1&scale=2", json=Z)
    # Each of these the fast route leaves to FastAPI: a charset, a leading zero, an empty value.
    slow = [
        client.post("/decode?model=mlp3d&version=1&scale=2", content=BODY,
                    headers={"Content-Type": "application/json; charset=utf-8"}),
        client.post("/decode?model=mlp3d&version=01&scale=02", json=Z),
        client.post("/decode?model=mlp3d&version=1&scale=2&unused=", json=Z),
    ]  # fmt: skip
    assert fast.status_code == 200 and fast.headers["content-type"] == "image/png"
    for r in slow:
        assert (r.status_code, r.content) == (200, fast.content)


def test_bad_input_gets_fastapis_own_errors(client: TestClient) -> None:
    cases = {
        "/decode?scale=0": 422,  # ge=1
        "/decode?scale=x": 422,
        "/decode?version=0": 422,
        "/decode?model=nope": 404,
    }
    for path, status in cases.items():
        r = client.post(path, json=Z)
        assert r.status_code == status, (path, r.text)
        assert set(r.json()["error"]) >= {"code", "message", "status"}, r.text
    bad_json = client.post(
        "/decode", content=b'{"latent": [0, 0,', headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 422 and "JSON" in bad_json.json()["error"]["message"]
    wrong_size = client.post("/decode", json={"latent": [0.0, 1.0]})
    assert wrong_size.status_code == 422 and "3" in wrong_size.json()["error"]["message"]


def test_sample_is_the_same_through_either_route(client: TestClient) -> None:
    json = {"Accept": "application/json"}
    fast = client.get("/sample?n=3&seed=7", headers=json).json()
    slow = client.get("/sample?n=03&seed=07", headers=json).json()  # leading zeros: FastAPI's
    assert fast == slow and len(fast["latents"]) == 3
    too_big = client.get(f"/sample?seed={2**63}")
    assert too_big.status_code == 422


def test_fast_requests_are_counted_under_their_route(client: TestClient) -> None:
    def count() -> float:
        text = client.get("/metrics").text
        found = re.findall(COUNTED + r" (\S+)", text)
        return float(found[0]) if found else 0.0

    before = count()
    client.post("/decode?model=mlp3d", json=Z)
    assert count() == before + 1


def test_the_api_key_guards_the_fast_routes(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_key="s3cret")
    assert client.post("/decode", json=Z).status_code == 401
    assert client.get("/sample?n=1", headers={"X-API-Key": "nope"}).status_code == 401
    assert client.get("/sample?n=1", headers={"X-API-Key": "s3cret"}).status_code == 200


def test_v2_infer_keeps_the_protocols_error_shape(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_key="s3cret")
    key = {"X-API-Key": "s3cret"}
    tensor = {"name": "latents", "shape": [1, 3], "datatype": "FP32", "data": [0.0, 0.0, 0.0]}
    ok = client.post("/v2/models/mlp3d-decoder/infer", json={"inputs": [tensor]}, headers=key)
    assert ok.status_code == 200 and ok.json()["outputs"][0]["shape"] == [1, 1, 28, 28]
    versioned = client.post(
        "/v2/models/mlp3d-decoder/versions/1/infer", json={"inputs": [tensor]}, headers=key
    )
    assert versioned.json()["outputs"] == ok.json()["outputs"]
    for r, status in [
        (client.post("/v2/models/mlp3d-decoder/infer", json={"inputs": [tensor]}), 401),
        (client.post("/v2/models/nope-decoder/infer", json={"inputs": [tensor]}, headers=key), 404),
        (client.post("/v2/models/mlp3d-decoder/infer", content=b"{", headers=key), 400),
    ]:
        assert r.status_code == status and isinstance(r.json()["error"], str), r.text


def test_sample_priors_through_either_route(client: TestClient) -> None:
    json = {"Accept": "application/json"}
    for prior in ("gaussian", "auto"):
        fast = client.get(f"/sample?n=2&seed=3&prior={prior}", headers=json)
        slow = client.get(f"/sample?n=02&seed=3&prior={prior}", headers=json)
        assert fast.status_code == 200 and fast.json() == slow.json(), fast.text
    bad = client.get("/sample?n=2&prior=flow")
    assert bad.status_code == 422 and "prior" in bad.json()["error"]["message"]

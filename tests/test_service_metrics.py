"""/metrics: Prometheus counters and histograms move with traffic, per app."""

from __future__ import annotations

import re
from collections.abc import Callable

from conftest import BROKEN
from fastapi.testclient import TestClient


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


def test_counters_move(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    before = client.get("/metrics")
    assert before.status_code == 200, before.text
    assert before.headers["content-type"].startswith("text/plain")
    for _ in range(3):
        assert client.post("/decode", json={"latent": [0, 0, 0]}).status_code == 200
    client.post("/decode", json={"latent": [0, 0]})
    client.get("/sample?model=conv32&n=2&seed=1")
    text = client.get("/metrics").text
    ok = {"route": "/decode", "method": "POST", "model": "mlp3d", "status": "200"}
    assert metric(text, "latentlab_requests_total", **ok) == 3
    assert metric(text, "latentlab_requests_total", route="/decode", status="422") == 1
    assert metric(text, "latentlab_requests_total", route="/sample", model="conv32") == 1
    assert metric(text, "latentlab_request_duration_seconds_count", route="/decode") == 4
    assert metric(text, "latentlab_inference_seconds_count", model="mlp3d", op="decode") == 3
    # /sample draws latents from the prior and runs the decoder on them
    assert metric(text, "latentlab_inference_seconds_count", model="conv32", op="decode") == 1
    assert "latentlab_models_loaded 2.0" in text
    assert f"latentlab_models_failed {len(BROKEN)}.0" in text


def test_unknown_paths_do_not_explode_the_label_set(make_client: Callable[..., TestClient]):
    client = make_client()
    for i in range(5):
        client.get(f"/no/such/path/{i}")
        client.get(f"/sample?model=made-up-{i}")
    text = client.get("/metrics").text
    assert metric(text, "latentlab_requests_total", route="unmatched", status="404") == 5
    assert "made-up" not in text
    assert metric(text, "latentlab_requests_total", route="/sample", status="404") == 5


def test_each_app_has_its_own_registry(make_client: Callable[..., TestClient]) -> None:
    a, b = make_client(), make_client()
    a.post("/decode", json={"latent": [0, 0, 0]})
    assert metric(b.get("/metrics").text, "latentlab_requests_total", route="/decode") == 0

"""Dynamic batching: concurrent requests share forward passes, answer exactly what they
would alone, and a full queue or a long wait is a 503 with Retry-After, never a hang."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI
from test_service_metrics import metric

from service.config import Settings
from service.http.app import create_app

Call = Callable[[httpx.AsyncClient], Awaitable[list[httpx.Response]]]


async def _with_app(settings: Settings, call: Call) -> tuple[list[httpx.Response], str]:
    """Run the app's lifespan, make the calls concurrently, return the replies and /metrics."""
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            replies = await call(client)
            metrics = (await client.get("/metrics")).text
    return replies, metrics


def run(settings: Settings, call: Call) -> tuple[list[httpx.Response], str]:
    return asyncio.run(_with_app(settings, call))


def decode_all(bodies: list[dict[str, Any]], json: bool) -> Call:
    headers = {"Accept": "application/json"} if json else {}

    async def call(client: httpx.AsyncClient) -> list[httpx.Response]:
        posts = [client.post("/decode", json=b, headers=headers) for b in bodies]
        return list(await asyncio.gather(*posts))

    return call


def latents(n: int, dim: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [{"latent": rng.normal(0, 3, dim).round(4).tolist()} for _ in range(n)]


def test_concurrent_requests_share_a_forward_pass(make_settings: Callable[..., Settings]):
    bodies = latents(16, 3, seed=1)
    batched = make_settings(max_batch_size=64, max_batch_delay_ms=200)
    replies, metrics = run(batched, decode_all(bodies, json=True))
    assert all(r.status_code == 200 for r in replies), replies[0].text
    count = metric(metrics, "latentlab_batch_size_count", model="mlp3d", op="decode")
    rows = metric(metrics, "latentlab_batch_size_sum", model="mlp3d", op="decode")
    assert rows == 16 and count < 16  # some requests shared a pass
    assert metric(metrics, "latentlab_queue_seconds_count", model="mlp3d", op="decode") == 16


def test_batched_answers_equal_unbatched_ones(make_settings: Callable[..., Settings]) -> None:
    for model, dim in (("mlp3d", 3), ("conv32", 32)):
        bodies = latents(24, dim, seed=2)
        bodies += [{"latents": [b["latent"] for b in bodies[:5]]}]  # a multi-row request too

        def call(json: bool, model: str = model, bodies: list = bodies) -> Call:
            async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
                headers = {"Accept": "application/json"} if json else {}
                posts = [
                    client.post(f"/decode?model={model}", json=b, headers=headers) for b in bodies
                ]
                return list(await asyncio.gather(*posts))

            return go

        for json in (True, False):
            alone, _ = run(make_settings(max_batch_size=1), call(json))
            together, m = run(make_settings(max_batch_size=64, max_batch_delay_ms=100), call(json))
            assert metric(m, "latentlab_batch_size_count", model=model, op="decode") < len(bodies)
            for a, b in zip(alone, together, strict=True):
                assert a.status_code == b.status_code == 200
                assert a.content == b.content  # the same pixels, byte for byte


def test_full_queue_is_503_with_retry_after(make_settings: Callable[..., Settings]) -> None:
    # The batcher holds each batch 300 ms to fill it: 2 may wait, the rest are refused.
    settings = make_settings(max_batch_size=64, max_batch_delay_ms=300, max_queue=2)
    replies, metrics = run(settings, decode_all(latents(10, 3, seed=3), json=False))
    codes = sorted(r.status_code for r in replies)
    assert codes == [200, 200] + [503] * 8
    refused = next(r for r in replies if r.status_code == 503)
    assert refused.headers["Retry-After"] == "1"
    error = refused.json()["error"]
    assert error["code"] == "overloaded" and "LATENTLAB_MAX_QUEUE" in error["message"]
    assert metric(metrics, "latentlab_rejected_requests_total", reason="queue_full") == 8


def test_queue_drains_and_the_service_keeps_serving(make_settings: Callable[..., Settings]):
    settings = make_settings(max_batch_size=8, max_batch_delay_ms=50, max_queue=4)

    async def burst_then_more(client: httpx.AsyncClient) -> list[httpx.Response]:
        burst = await decode_all(latents(40, 3, seed=4), json=False)(client)
        assert {r.status_code for r in burst} == {200, 503}
        later = [await client.post("/decode", json={"latent": [0, 0, 0]}) for _ in range(5)]
        return later

    later, metrics = run(settings, burst_then_more)
    assert [r.status_code for r in later] == [200] * 5
    assert metric(metrics, "latentlab_queue_depth", model="mlp3d") == 0


def test_a_request_queued_too_long_is_503(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(max_batch_delay_ms=500, request_timeout_s=0.05)
    replies, metrics = run(settings, decode_all(latents(1, 3, seed=5), json=False))
    assert replies[0].status_code == 503
    assert replies[0].headers["Retry-After"] == "1"
    assert "LATENTLAB_REQUEST_TIMEOUT_S" in replies[0].json()["error"]["message"]
    assert metric(metrics, "latentlab_rejected_requests_total", reason="timeout") == 1


def test_every_batched_verb_matches_its_single_answer(make_settings: Callable[..., Settings]):
    """encode, reconstruct and sample ride the same batchers."""
    pixels = np.random.default_rng(6).random((28, 28)).round(3).tolist()

    async def calls(client: httpx.AsyncClient) -> list[httpx.Response]:
        json = {"Accept": "application/json"}
        posts = [client.post("/encode", json={"pixels": pixels}) for _ in range(6)]
        posts += [client.post("/reconstruct", json={"pixels": pixels}, headers=json)]
        posts += [client.get("/sample?n=3&seed=11", headers=json) for _ in range(4)]
        return list(await asyncio.gather(*posts))

    alone, _ = run(make_settings(max_batch_size=1), calls)
    together, _ = run(make_settings(max_batch_size=64, max_batch_delay_ms=100), calls)
    for a, b in zip(alone, together, strict=True):
        assert a.status_code == b.status_code == 200, b.text
        assert a.json() == b.json()

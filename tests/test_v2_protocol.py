"""/v2, the Open Inference Protocol: NVIDIA's own tritonclient reads our metadata and runs
both halves of every model (JSON and binary tensors) against a real `python -m service`,
with the answers /encode and /decode give; malformed requests get {"error": ...} and a 4xx."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import numpy as np
import pytest
import tritonclient.http as triton
from fastapi.testclient import TestClient
from test_service_metrics import metric
from test_workers import start
from tritonclient.utils import InferenceServerException

from service.config import Settings
from service.http.app import create_app

DIMS = {"mlp3d": 3, "conv32": 32}
HEADER = "Inference-Header-Content-Length"


@pytest.fixture(scope="module")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One worker process serving the fixture models; its base URL."""
    proc, base = start(models_dir, tmp_path_factory.mktemp("v2"), LATENTLAB_WORKERS="1")
    yield base
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


@pytest.fixture(scope="module")
def oip(server: str) -> Iterator[triton.InferenceServerClient]:
    """NVIDIA's HTTP client for Triton (and any Open Inference Protocol server)."""
    client = triton.InferenceServerClient(server.removeprefix("http://"))
    yield client
    client.close()


def latents(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 2, (n, dim)).astype(np.float32)


def encode_rest(base: str, model: str, images: np.ndarray) -> np.ndarray:
    r = httpx.post(f"{base}/encode?model={model}", json={"pixels": images[:, 0].tolist()})
    assert r.status_code == 200, r.text
    return np.array(r.json()["latents"], np.float32)


def decode_rest(base: str, model: str, z: np.ndarray) -> np.ndarray:
    r = httpx.post(f"{base}/decode?model={model}", json={"latents": z.tolist()},
                   headers={"Accept": "application/json"})  # fmt: skip
    assert r.status_code == 200, r.text
    return np.array(r.json()["pixels"], np.float32)[:, None]


def infer(
    oip: triton.InferenceServerClient, model: str, name: str, x: np.ndarray, binary: bool,
    **kwargs: Any,
) -> triton.InferResult:  # fmt: skip
    tensor = triton.InferInput(name, list(x.shape), "FP32")
    tensor.set_data_from_numpy(x, binary_data=binary)
    return oip.infer(model, [tensor], **kwargs)


def test_server_health_and_metadata(oip: triton.InferenceServerClient) -> None:
    assert oip.is_server_live() and oip.is_server_ready()
    meta = oip.get_server_metadata()
    assert meta["name"] == "latentlab" and "binary_tensor_data" in meta["extensions"]


@pytest.mark.parametrize("model", DIMS)
def test_model_metadata_and_readiness(oip: triton.InferenceServerClient, model: str) -> None:
    images = {"name": "images", "datatype": "FP32", "shape": [-1, 1, 28, 28]}
    z = {"name": "latents", "datatype": "FP32", "shape": [-1, DIMS[model]]}
    for role, inputs, outputs in (("encoder", images, z), ("decoder", z, images)):
        name = f"{model}-{role}"
        for version in ("", "1"):
            meta = oip.get_model_metadata(name, model_version=version)
            assert meta == {"name": name, "versions": ["1"], "platform": "onnxruntime_onnx",
                            "inputs": [inputs], "outputs": [outputs]}  # fmt: skip
            assert oip.is_model_ready(name, model_version=version)
    assert not oip.is_model_ready(f"{model}-encoder", model_version="2")
    assert not oip.is_model_ready(model)  # the served name itself is not an OIP model
    with pytest.raises(InferenceServerException, match="unknown model 'nope'"):
        oip.get_model_metadata("nope")


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
@pytest.mark.parametrize("model", DIMS)
def test_encoder_equals_encode(
    oip: triton.InferenceServerClient, server: str, digits, model: str, binary: bool
) -> None:
    images = digits[0][:8, None]  # (8, 1, 28, 28)
    wanted = [triton.InferRequestedOutput("latents", binary_data=binary)]
    result = infer(oip, f"{model}-encoder", "images", images, binary, outputs=wanted,
                   request_id="req-7")  # fmt: skip
    response = result.get_response()
    assert (response["id"], response["model_name"]) == ("req-7", f"{model}-encoder")
    assert ("binary_data_size" in response["outputs"][0].get("parameters", {})) == binary
    z = result.as_numpy("latents")
    assert z.dtype == np.float32 and z.shape == (8, DIMS[model])
    np.testing.assert_allclose(z, encode_rest(server, model, images), atol=1e-4)


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
@pytest.mark.parametrize("model", DIMS)
def test_decoder_equals_decode(
    oip: triton.InferenceServerClient, server: str, model: str, binary: bool
) -> None:
    z = latents(5, DIMS[model], seed=1)
    wanted = [triton.InferRequestedOutput("images", binary_data=binary)]
    result = infer(oip, f"{model}-decoder", "latents", z, binary, outputs=wanted,
                   model_version="1")  # fmt: skip
    assert result.get_response()["model_version"] == "1"
    pixels = result.as_numpy("images")
    assert pixels.dtype == np.float32 and pixels.shape == (5, 1, 28, 28)
    np.testing.assert_allclose(pixels, decode_rest(server, model, z), atol=1e-4)


def test_binary_by_default_and_compressed_bodies(
    oip: triton.InferenceServerClient, server: str
) -> None:
    z = latents(64, 32, seed=2)
    expected = decode_rest(server, "conv32", z)
    # No outputs named: tritonclient asks for every output as binary (binary_data_output).
    plain = infer(oip, "conv32-decoder", "latents", z, True)
    assert "binary_data_size" in plain.get_response()["outputs"][0]["parameters"]
    np.testing.assert_allclose(plain.as_numpy("images"), expected, atol=1e-4)
    for algorithm in ("gzip", "deflate"):
        packed = infer(oip, "conv32-decoder", "latents", z, True,
                       request_compression_algorithm=algorithm)  # fmt: skip
        assert np.array_equal(packed.as_numpy("images"), plain.as_numpy("images"))


def test_encoder_then_decoder_reconstructs(oip: triton.InferenceServerClient, digits) -> None:
    images = digits[0][:16, None]
    z = infer(oip, "conv32-encoder", "images", images, True).as_numpy("latents")
    recon = infer(oip, "conv32-decoder", "latents", z, True).as_numpy("images")
    assert float(((recon - images) ** 2).mean()) < 0.05


# Raw HTTP: the wire format itself, without a client library's help.


def binary_body(doc: dict[str, Any], *tensors: np.ndarray) -> tuple[bytes, dict[str, str]]:
    head = json.dumps(doc).encode()
    raw = b"".join(t.astype("<f4").tobytes() for t in tensors)
    return head + raw, {HEADER: str(len(head)), "Content-Type": "application/octet-stream"}


def split_binary(r: httpx.Response) -> tuple[dict[str, Any], bytes]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    n = int(r.headers[HEADER])
    return json.loads(r.content[:n]), r.content[n:]


def test_raw_binary_request_and_per_output_override(server: str) -> None:
    z = latents(3, 3, seed=3)
    doc = {"inputs": [{"name": "latents", "shape": [3, 3], "datatype": "FP32",
                       "parameters": {"binary_data_size": z.nbytes}}],
           "parameters": {"binary_data_output": False},
           "outputs": [{"name": "images", "parameters": {"binary_data": True}}]}  # fmt: skip
    body, headers = binary_body(doc, z)
    head, raw = split_binary(httpx.post(f"{server}/v2/models/mlp3d-decoder/infer",
                                        content=body, headers=headers))  # fmt: skip
    (output,) = head["outputs"]
    assert output["shape"] == [3, 1, 28, 28]
    assert output["parameters"]["binary_data_size"] == len(raw)
    pixels = np.frombuffer(raw, "<f4").reshape(3, 1, 28, 28)
    np.testing.assert_allclose(pixels, decode_rest(server, "mlp3d", z), atol=1e-4)


def test_nested_json_data_equals_flat(server: str, digits) -> None:
    images = digits[0][:2, None]
    replies = []
    for data in (images.tolist(), images.ravel().tolist()):
        doc = {"id": "n", "inputs": [{"name": "images", "shape": [2, 1, 28, 28],
                                      "datatype": "FP32", "data": data}]}  # fmt: skip
        r = httpx.post(f"{server}/v2/models/mlp3d-encoder/versions/1/infer", json=doc)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        replies.append(r.json())
    assert replies[0] == replies[1]
    assert replies[0]["id"] == "n" and replies[0]["outputs"][0]["shape"] == [2, 3]


def assert_oip_error(r: httpx.Response | httpx2.Response, status: int, *phrases: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert list(body) == ["error"] and isinstance(body["error"], str), body
    for phrase in phrases:
        assert phrase in body["error"], body
    assert "Traceback" not in r.text


def tensor(name: str = "latents", shape: Any = (1, 3), data: Any = (0.0, 0.0, 0.0),
           datatype: str = "FP32") -> dict[str, Any]:  # fmt: skip
    return {"name": name, "shape": list(shape), "datatype": datatype, "data": data}


BAD_REQUESTS = {
    "datatype": ({"inputs": [tensor(datatype="INT32")]}, "INT32"),
    "shape": ({"inputs": [tensor(shape=(1, 4))]}, "expected [-1, 3]"),
    "rank": ({"inputs": [tensor(shape=(3,))]}, "shape [3]"),
    "empty batch": ({"inputs": [tensor(shape=(0, 3), data=[])]}, "shape [0, 3]"),
    "size": ({"inputs": [tensor(shape=(2, 3))]}, "3 values"),
    "negative dim": ({"inputs": [tensor(shape=(-1, 3))]}, "shape [-1, 3]"),
    "fractional dim": ({"inputs": [tensor(shape=(1.5, 3))]}, "shape"),
    "nan": ({"inputs": [tensor(data=[float("nan"), 0, 0])]}, "NaN"),
    "overflow": ({"inputs": [tensor(data=[1e39, 0, 0])]}, "infinite"),
    "out of bounds": ({"inputs": [tensor(data=[2e6, 0, 0])]}, "+-1e+06"),
    "strings": ({"inputs": [tensor(data=["1", "2", "3"])]}, "numbers"),
    "ragged": ({"inputs": [tensor(shape=(2, 3), data=[[0, 0, 0], [0, 0]])]}, "numbers"),
    "no data": ({"inputs": [tensor(data=None)]}, "no data"),
    "input name": ({"inputs": [tensor(name="z")]}, "'latents'"),
    "two inputs": ({"inputs": [tensor(), tensor()]}, "one input"),
    "no inputs": ({"inputs": []}, "at least 1 item"),
    "output name": ({"inputs": [tensor()], "outputs": [{"name": "x"}]}, "unknown output"),
    "flag": ({"inputs": [tensor()], "parameters": {"binary_data_output": "yes"}}, "true or false"),
    "classification": ({"inputs": [tensor()], "outputs": [
        {"name": "images", "parameters": {"classification": 3}}]}, "classification"),
    "binary size": ({"inputs": [{**tensor(data=None), "parameters": {"binary_data_size": 1.5}}]},
                    "byte count"),
    "data and binary": ({"inputs": [{**tensor(), "parameters": {"binary_data_size": 12}}]},
                        "both"),
    "numeric id": ({"id": 7, "inputs": [tensor()]}, "id"),
    "not a request": ({"input": []}, "inputs"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_bad_requests_are_400(server: str, case: str) -> None:
    doc, phrase = BAD_REQUESTS[case]
    body = json.dumps(doc).encode()  # not httpx's json=: it refuses NaN, which clients send
    r = httpx.post(f"{server}/v2/models/mlp3d-decoder/infer", content=body)
    assert_oip_error(r, 400, phrase)


def test_bad_images_and_bodies_are_400(server: str) -> None:
    url = f"{server}/v2/models/mlp3d-encoder/infer"
    images = np.full((1, 1, 28, 28), 255.0, np.float32)
    doc = {"inputs": [tensor("images", images.shape, images.ravel().tolist())]}
    assert_oip_error(httpx.post(url, json=doc), 400, "[0, 1]", "255")
    nan = images * np.nan
    meta = {"inputs": [{"name": "images", "shape": [1, 1, 28, 28], "datatype": "FP32",
                        "parameters": {"binary_data_size": nan.nbytes}}]}  # fmt: skip
    body, headers = binary_body(meta, nan)
    assert_oip_error(httpx.post(url, content=body, headers=headers), 400, "NaN")
    assert_oip_error(httpx.post(url, content=body[:-4], headers=headers), 400, "bytes follow")
    for length in ("-1", "x", str(len(body) + 1)):
        r = httpx.post(url, content=body, headers={HEADER: length})
        assert_oip_error(r, 400, HEADER)
    assert_oip_error(httpx.post(url, content=b"{not json"), 400, "not an inference request")
    assert_oip_error(httpx.post(url, content=b""), 400)
    extra = json.dumps({"inputs": [tensor("images", images.shape, images.ravel().tolist())]})
    r = httpx.post(url, content=extra.encode() + b"\0\0\0\0", headers={HEADER: str(len(extra))})
    assert_oip_error(r, 400, "no input has binary_data_size")
    r = httpx.post(url, content=b"\x1f\x8b garbage", headers={"Content-Encoding": "gzip"})
    assert_oip_error(r, 400, "gzip")
    assert_oip_error(httpx.post(url, content=b"{}", headers={"Content-Encoding": "br"}), 415)


def test_unknown_models_and_versions_are_404(server: str) -> None:
    for path in ("/v2/models/nope", "/v2/models/mlp3d", "/v2/models/mlp3d-middle/ready",
                 "/v2/models/mlp3d-encoder/versions/2", "/v2/models/bad-hash-encoder"):  # fmt: skip
        assert_oip_error(httpx.get(f"{server}{path}"), 404, "mlp3d-encoder")
    doc = {"inputs": [tensor()]}
    r = httpx.post(f"{server}/v2/models/nope-decoder/versions/1/infer", json=doc)
    assert_oip_error(r, 404, "unknown model 'nope-decoder'", "conv32-decoder")


def test_unknown_paths_and_methods_answer_in_the_protocols_shape(server: str) -> None:
    assert_oip_error(httpx.get(f"{server}/v2/nothing/here"), 404, "/v2/nothing/here")
    assert_oip_error(httpx.delete(f"{server}/v2/models/mlp3d-encoder"), 405, "DELETE")
    r = httpx.get(f"{server}/nothing/here")  # outside /v2: the service's own shape
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_batch_and_body_caps_are_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_batch=4, max_body_bytes=64 * 1024)
    z = np.zeros((5, 3), np.float32)
    doc = {"inputs": [tensor(shape=z.shape, data=z.tolist())]}
    r = client.post("/v2/models/mlp3d-decoder/infer", json=doc)
    assert_oip_error(r, 413, "LATENTLAB_MAX_BATCH")
    big = json.dumps({"inputs": [tensor(data=[0.0] * 20_000)]}).encode()  # > 64 KiB
    r = client.post("/v2/models/mlp3d-decoder/infer", content=big)
    assert_oip_error(r, 413, "65,536")  # refused by its Content-Length, before any route
    r = client.post("/v2/models/mlp3d-decoder/infer", content=iter([big]))  # chunked
    assert_oip_error(r, 413, "65,536")
    bomb = zlib.compress(b" " * (1 << 20))  # 1 KiB on the wire, 1 MiB once inflated
    r = client.post("/v2/models/mlp3d-decoder/infer", content=bomb,
                    headers={"Content-Encoding": "deflate"})  # fmt: skip
    assert_oip_error(r, 413, "65,536")


def test_numbered_versions_are_protocol_versions(
    make_client: Callable[..., TestClient], models_dir: Path, tmp_path: Path
) -> None:
    for number, source in ((1, "mlp3d"), (2, "conv32")):  # models/mlp3d/<N>/, Triton's layout
        shutil.copytree(models_dir / source, tmp_path / "mlp3d" / str(number))
    (tmp_path / "mlp3d" / "serving.json").write_text('{"version_policy": "all"}')
    client = make_client(model_dir=tmp_path)
    latest = client.get("/v2/models/mlp3d-decoder").json()
    assert latest["versions"] == ["1", "2"] and latest["inputs"][0]["shape"] == [-1, 32]
    first = client.get("/v2/models/mlp3d-decoder/versions/1").json()
    assert first["inputs"][0]["shape"] == [-1, 3]
    r = client.post("/v2/models/mlp3d-decoder/versions/1/infer", json={"inputs": [tensor()]})
    assert r.status_code == 200 and r.json()["model_version"] == "1", r.text
    r = client.post("/v2/models/mlp3d-decoder/infer", json={"inputs": [tensor()]})
    assert_oip_error(r, 400, "expected [-1, 32]")  # the default is the latest, version 2
    assert_oip_error(client.get("/v2/models/mlp3d-encoder/versions/7/ready"), 404, "1, 2")


def test_no_models_is_not_ready(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    client = make_client(model_dir=tmp_path)
    assert client.get("/v2/health/live").status_code == 200
    assert_oip_error(client.get("/v2/health/ready"), 503, "/readyz")
    r = client.post("/v2/models/mlp3d-decoder/infer", json={"inputs": [tensor()]})
    assert_oip_error(r, 404, "none are loaded")


def test_api_key_guards_all_but_the_probes(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_key="s3cret")
    for path in ("/v2", "/v2/models/mlp3d-encoder", "/v2/models/mlp3d-encoder/ready"):
        assert_oip_error(client.get(path), 401, "X-API-Key")
    r = client.post("/v2/models/mlp3d-decoder/infer", json={"inputs": [tensor()]})
    assert_oip_error(r, 401)
    r = client.post("/v2/models/mlp3d-decoder/infer", json={"inputs": [tensor()]},
                    headers={"X-API-Key": "s3cret"})  # fmt: skip
    assert r.status_code == 200, r.text
    for path in ("/v2/health/live", "/v2/health/ready"):
        assert client.get(path).status_code == 200, path


def test_full_queue_is_503_with_retry_after(make_settings: Callable[..., Settings]) -> None:
    # Each batch waits 300 ms to fill and 2 requests may queue: the other 6 are refused.
    app = create_app(make_settings(max_batch_delay_ms=300, max_queue=2))
    doc = {"inputs": [tensor()]}

    async def burst() -> tuple[list[httpx.Response], str]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                posts = [c.post("/v2/models/mlp3d-decoder/infer", json=doc) for _ in range(8)]
                replies = list(await asyncio.gather(*posts))
                return replies, (await c.get("/metrics")).text

    replies, metrics = asyncio.run(burst())
    assert sorted(r.status_code for r in replies) == [200] * 2 + [503] * 6
    refused = next(r for r in replies if r.status_code == 503)
    assert_oip_error(refused, 503, "LATENTLAB_MAX_QUEUE")
    assert refused.headers["Retry-After"] == "1"
    route = "/v2/models/{model_name}/infer"
    assert metric(metrics, "latentlab_requests_total", route=route, model="mlp3d",
                  status="200") == 2  # fmt: skip
    assert metric(metrics, "latentlab_rejected_requests_total", reason="queue_full") == 6


def test_openapi_documents_v2(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v2", "/v2/health/ready", "/v2/models/{model_name}/versions/{model_version}",
                 "/v2/models/{model_name}/infer"):  # fmt: skip
        assert path in paths, path
    body = paths["/v2/models/{model_name}/infer"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/octet-stream"} <= set(body)
    assert "$ref" not in json.dumps(body["application/json"])  # self-contained schema

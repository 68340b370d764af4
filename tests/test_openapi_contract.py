"""/openapi.json is the contract: what it calls valid is served, what it calls invalid is
refused with a status it documents, in the error shape it documents. One test per mismatch
Schemathesis found before (issue 10), plus the statuses and caps every operation states.
The full fuzzing run is scripts/schemathesis_check.py (CI)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from tests.conftest import png_bytes

Spec = dict[str, Any]
METHODS = ("get", "post")


@pytest.fixture(scope="module")
def spec(client: TestClient) -> Spec:
    r = client.get("/openapi.json")
    assert r.status_code == 200, r.text
    doc: Spec = r.json()
    return doc


def operations(spec: Spec) -> Iterator[tuple[str, str, Spec]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def validator(spec: Spec, schema: Spec) -> Draft202012Validator:
    """A validator for `schema` that resolves the document's #/components refs."""
    return Draft202012Validator({**schema, "components": spec["components"]})


def request_schema(spec: Spec, path: str, media_type: str = "application/json") -> Spec:
    schema: Spec = spec["paths"][path]["post"]["requestBody"]["content"][media_type]["schema"]
    return schema


def documented(spec: Spec, path: str, method: str, status: int) -> Spec:
    responses = spec["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not document {status}"
    response: Spec = responses[str(status)]
    return response


def assert_error(r: Any, spec: Spec, path: str, method: str, status: int, code: str) -> None:
    """The answer has the status and code, the operation documents that status, and the body
    matches the documented schema."""
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    schema = documented(spec, path, method, status)["content"]["application/json"]["schema"]
    validator(spec, schema).validate(r.json())


# --- the mismatches: each is now refused by the schema too, or documented ---------------------


@pytest.mark.parametrize(
    "pixels",
    [[{}], [[{}]], [True] * 784, ["0.5"] * 784, [[[0.0] * 784] * 2] * 3, [[0] * 783]],
    ids=["empty-object", "nested-object", "booleans", "strings", "NxMx784", "783"],
)
def test_pixels_the_schema_refuses_are_refused(client: TestClient, spec: Spec, pixels: Any):
    body = {"pixels": pixels}
    assert not validator(spec, request_schema(spec, "/encode")).is_valid(body)
    r = client.post("/encode", json=body)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "pixels",
    [[0.0] * 784, [[0.5] * 28] * 28, [[0.0] * 784] * 3, [[[1.0] * 28] * 28] * 2],
    ids=["784", "28x28", "Nx784", "Nx28x28"],
)
def test_every_pixel_shape_the_schema_allows_is_served(client: TestClient, spec: Spec, pixels):
    body = {"pixels": pixels}
    assert validator(spec, request_schema(spec, "/encode")).is_valid(body)
    r = client.post("/encode", json=body)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "body",
    [{"latent": [0, 0, 0], "latents": [[0, 0, 0]]}, {}, {"latent": None}, {"latent": [True] * 3},
     {"latent": ["1"] * 3}, {"latents": []}, {"latent": [0, 0, 0], "x": 1}],
)  # fmt: skip
def test_latent_bodies_the_schema_refuses_are_refused(client: TestClient, spec: Spec, body):
    assert not validator(spec, request_schema(spec, "/decode")).is_valid(body)
    r = client.post("/decode", json=body)
    assert r.status_code == 422, r.text


def test_latent_and_latents_are_one_of(spec: Spec) -> None:
    schema = spec["components"]["schemas"]["DecodeRequest"]
    shapes = [sorted(option["required"]) for option in schema["oneOf"]]
    assert shapes == [["latent"], ["latents"]]
    assert all(option["additionalProperties"] is False for option in schema["oneOf"])
    check = validator(spec, request_schema(spec, "/decode"))
    assert check.is_valid({"latent": [0.5, -1.0, 2.0]})
    assert check.is_valid({"latents": [[0.5, -1.0, 2.0]]})


def test_latent_sizes_per_model_are_stated_and_a_wrong_length_is_a_documented_422(
    client: TestClient, spec: Spec
) -> None:
    for path in ("/decode", "/interpolate"):
        description = spec["paths"][path]["post"]["description"]
        assert "mlp3d v1: 3" in description and "conv32 v1: 32" in description, description
        examples = documented(spec, path, "post", 422)["content"]["application/json"]["examples"]
        assert examples["latent_size"]["value"]["error"]["code"] == "latent_size"
    body = {"latent": [0.0] * 32}
    assert validator(spec, request_schema(spec, "/decode")).is_valid(body)
    r = client.post("/decode", json=body)  # the default model, mlp3d, takes 3
    assert_error(r, spec, "/decode", "post", 422, "latent_size")
    assert client.post("/decode", params={"model": "conv32"}, json=body).status_code == 200


def test_caps_from_the_settings_are_in_the_schema(make_client: Callable[..., TestClient]):
    client = make_client(max_samples=8, max_scale=3, max_batch=5)
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p["schema"] for p in spec["paths"]["/sample"]["get"]["parameters"]}
    assert params["n"]["maximum"] == 8 and params["scale"]["maximum"] == 3
    assert client.get("/sample", params={"n": 8}).status_code == 200
    assert_error(client.get("/sample", params={"n": 9}), spec, "/sample", "get", 422, "n_cap")
    schemas = spec["components"]["schemas"]
    latents = next(o for o in schemas["DecodeRequest"]["oneOf"] if "latents" in o["required"])
    assert latents["properties"]["latents"]["maxItems"] == 5
    assert schemas["InterpolateRequest"]["properties"]["steps"]["maximum"] == 5
    form = request_schema(spec, "/encode", "multipart/form-data")
    assert form["properties"]["file"]["maxItems"] == 5
    assert "x-cap" not in str(spec)


def test_several_files_are_a_documented_batch(client: TestClient, spec: Spec, digits) -> None:
    content = spec["paths"]["/encode"]["post"]["requestBody"]["content"]["multipart/form-data"]
    file = content["schema"]["properties"]["file"]
    assert file["type"] == "array" and file["items"] == {"type": "string", "format": "binary"}
    assert "image/png" in content["encoding"]["file"]["contentType"]
    images, _ = digits
    files = [("file", (f"{i}.png", png_bytes(images[i]), "image/png")) for i in range(3)]
    r = client.post("/encode", files=files)
    assert r.status_code == 200, r.text
    assert len(r.json()["latents"]) == 3


@pytest.mark.parametrize(
    ("part", "status", "code"),
    [(b"not an image at all", 415, "unsupported_media_type"),
     (png_bytes(np.random.default_rng(0).random((64, 64)))[:200], 422, "bad_image"),  # cut short
     (b"", 422, "bad_image")],
)  # fmt: skip
@pytest.mark.parametrize("path", ["/encode", "/reconstruct"])
def test_a_part_that_is_not_an_image_is_documented(
    client: TestClient, spec: Spec, path: str, part: bytes, status: int, code: str
) -> None:
    r = client.post(path, files={"file": ("x.png", part, "image/png")})
    assert_error(r, spec, path, "post", status, code)


@pytest.mark.parametrize("path", ["/encode", "/reconstruct", "/decode", "/interpolate"])
def test_malformed_bodies_are_documented_400s(client: TestClient, spec: Spec, path: str):
    headers = {"Content-Type": "multipart/form-data; boundary=xyz"}
    r = client.post(path, content=b"--xyz\r\nno headers, no end", headers=headers)
    if path in ("/encode", "/reconstruct"):
        assert_error(r, spec, path, "post", 400, "bad_request")
    else:  # a JSON body sent as multipart: FastAPI answers 422
        assert_error(r, spec, path, "post", 422, "validation_error")
    r = client.post(path, content=b'{"pixels": [0, 0', headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text
    documented(spec, path, "post", r.status_code)


def test_labels_are_a_pattern_of_the_served_labels(client: TestClient, spec: Spec) -> None:
    label = next(p for p in spec["paths"]["/sample"]["get"]["parameters"] if p["name"] == "label")
    pattern = re.compile(label["schema"]["items"]["pattern"])
    for value in ("7", "3,7", " 1 , 2 ,", "9,,0"):
        assert pattern.search(value), value
        assert client.get("/sample", params={"label": value}).status_code == 200, value
    for value in ("", ",", "x", "10", "7 3"):
        assert not pattern.search(value), value
        r = client.get("/sample", params={"label": value})
        assert_error(r, spec, "/sample", "get", 422, "unknown_label")


def test_path_parameter_examples_are_served_names_that_answer(
    client: TestClient, spec: Spec
) -> None:
    """Each example of a path parameter (what /docs offers and fuzzers try) reaches a model."""
    tried = 0
    for path, method, op in operations(spec):
        params = [p for p in op.get("parameters", []) if p["in"] == "path"]
        if method != "get" or not params or path.endswith("/report/{file}"):
            continue  # a report's file names are per model: /models/{name} lists them
        first = {p["name"]: next(iter(p["examples"].values()))["value"] for p in params}
        r = client.get(path.format(**first))
        assert r.status_code == 200, (path, first, r.text)
        tried += 1
    assert tried >= 2


# --- every status, in the documented shape --------------------------------------------------


def test_every_error_example_has_the_documented_shape(spec: Spec) -> None:
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            content = response["content"]["application/json"]
            check = validator(spec, content["schema"])
            values = [e["value"] for e in content.get("examples", {}).values()]
            values += [content["example"]] if "example" in content else []
            assert values, f"{method.upper()} {path} {status} has no example"
            for value in values:
                check.validate(value)
                if path.startswith("/v2"):
                    assert isinstance(value["error"], str)
                else:
                    assert value["error"]["status"] == int(status)


def test_statuses_each_operation_can_return_are_documented(spec: Spec) -> None:
    engine = {"/encode", "/reconstruct", "/decode", "/interpolate", "/sample"}
    for path, _, op in operations(spec):
        statuses = set(op["responses"])
        if "requestBody" in op:
            assert {"400", "413"} <= statuses, path
        if path in engine or path.endswith("/infer"):
            assert {"404", "503"} <= statuses, path
            assert "Retry-After" in op["responses"]["503"]["headers"], path
        if op.get("parameters") and not path.startswith("/v2"):
            assert "422" in statuses or all(p["in"] == "path" for p in op["parameters"]), path
        assert "401" not in statuses, f"{path}: no API key is set"
        if path.startswith("/v2"):
            assert "422" not in statuses, path  # the protocol answers 400
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_401_is_documented_where_an_api_key_guards(make_client: Callable[..., TestClient]):
    client = make_client(api_key="sesame")
    spec = client.get("/openapi.json").json()
    open_paths = {"/healthz", "/readyz", "/metrics", "/v2/health/live", "/v2/health/ready"}
    for path, _, op in operations(spec):
        assert ("401" in op["responses"]) == (path not in open_paths), path
    r = client.post("/decode", json={"latent": [0, 0, 0]})
    assert_error(r, spec, "/decode", "post", 401, "unauthorized")
    r = client.get("/v2/models/mlp3d-decoder")
    assert r.status_code == 401 and isinstance(r.json()["error"], str)
    documented(spec, "/v2/models/{model_name}", "get", 401)


def test_v2_infer_documents_its_tensors_and_errors(client: TestClient, spec: Spec) -> None:
    op = spec["paths"]["/v2/models/{model_name}/infer"]["post"]
    assert "mlp3d-decoder v1: [-1, 3]" in op["description"]
    r = client.post("/v2/models/mlp3d-decoder/infer", content=b"{not json")
    assert r.status_code == 400 and isinstance(r.json()["error"], str)
    response = documented(spec, "/v2/models/{model_name}/infer", "post", 400)
    validator(spec, response["content"]["application/json"]["schema"]).validate(r.json())

"""Schemathesis hooks (SCHEMATHESIS_HOOKS=scripts.schemathesis_hooks), loaded by
scripts/schemathesis_check.py: realistic data for what /openapi.json states but JSON Schema
cannot generate or tie together.

1. Images. The document says each `file` part is an image; Schemathesis draws random bytes or
   the same few 1x1 samples there. Positive cases get real PNG, JPEG, GIF, BMP and WEBP files
   instead, of random size, mode and content (noise, blank, strokes), chosen by the drawn
   bytes, so the preprocessing meets odd inputs too. Noise and blank ones are 28x28: at other
   sizes they hold no digit, a documented 422 `no_digit` the schema cannot state. (Raw
   image/png and image/jpeg bodies keep Schemathesis's 1x1 samples: a replaced binary body
   would count as unverifiable.)
2. Latent lengths. A latent has the chosen model's D values (the /decode and /interpolate
   descriptions list D per model; another length is a documented 422 `latent_size`), but a
   schema cannot tie a body's length to the `?model=` query. Positive cases get the latents
   resized to that model's D; negative cases are left as generated.
3. Tensors. An /v2 infer request must carry the model's one input by its name, in its shape
   (GET /v2/models/{name} gives both; a schema shared by every model cannot). Positive cases
   get that input with values from the drawn ones (raw float32 after the JSON, with its
   Inference-Header-Content-Length, for an application/octet-stream body), all outputs, as
   JSON; negative cases are left as generated.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.error
import urllib.request
from functools import cache
from typing import Any

import numpy as np
import schemathesis
from PIL import Image
from schemathesis.transport.serialization import Binary

FORMATS = {
    "image/png": ("PNG", ("L", "RGB", "RGBA", "LA", "1", "P", "I;16")),
    "image/jpeg": ("JPEG", ("L", "RGB")),
    "image/gif": ("GIF", ("L", "P")),
    "image/bmp": ("BMP", ("L", "RGB", "1")),
    "image/webp": ("WEBP", ("RGB", "RGBA")),
}


def drawn_rng(drawn: object, salt: str = "") -> np.random.Generator:
    """A generator seeded by what Schemathesis drew, so that its seed still decides the data."""
    raw = getattr(drawn, "data", drawn)
    raw = raw if isinstance(raw, bytes) else str(raw).encode()
    seed = hashlib.sha256(raw + salt.encode()).digest()
    return np.random.default_rng(int.from_bytes(seed[:8], "little"))


def image_like(drawn: object, salt: str) -> Binary:
    """A real image, chosen by the bytes Schemathesis drew: a random format, size (8 to 120 px
    a side for strokes), mode, and content."""
    rng = drawn_rng(drawn, salt)
    fmt, modes = FORMATS[str(rng.choice(sorted(FORMATS)))]
    height, width = (int(v) for v in rng.integers(8, 121, 2))
    kind = rng.choice(["noise", "blank", "strokes"])
    if kind != "strokes":
        # A blank or noise picture holds no digit: at any other size that is the documented
        # 422 no_digit (docs/photos.md); a 28x28 input is taken as given, so a valid case.
        height = width = 28
    if kind == "noise":
        grey = rng.integers(0, 256, (height, width), dtype=np.uint8)
    elif kind == "blank":
        grey = np.full((height, width), rng.integers(0, 256), dtype=np.uint8)
    else:  # dark strokes on light paper, like a photographed digit
        grey = np.full((height, width), 230, dtype=np.uint8)
        for _ in range(int(rng.integers(1, 4))):
            r, c = rng.integers(0, height), rng.integers(0, width)
            grey[r : r + max(1, height // 3), c : c + max(1, width // 12)] = 20
    image = Image.fromarray(grey, mode="L").convert(str(rng.choice(modes)))
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return Binary(buf.getvalue())  # what Schemathesis validates binary strings as


@cache
def _models() -> tuple[str | None, dict[str, int]]:
    """The default model and each model's D, from the service under test."""
    url = os.environ["LATENTLAB_CHECK_URL"].rstrip("/") + "/models"
    with urllib.request.urlopen(url, timeout=10) as reply:
        listed = json.load(reply)
    return listed["default"], {m["name"]: m["latent_dim"] for m in listed["models"]}


@cache
def _tensor_spec(model_name: str) -> dict[str, Any] | None:
    """The /v2 model's one input, as its metadata gives it (None: no such model)."""
    url = os.environ["LATENTLAB_CHECK_URL"].rstrip("/") + f"/v2/models/{model_name}"
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            spec: dict[str, Any] = json.load(reply)["inputs"][0]
            return spec
    except (urllib.error.HTTPError, ValueError, KeyError, IndexError):
        return None


def _valid_request(drawn: object, spec: dict[str, Any]) -> dict[str, Any]:
    """The model's one input, batch 1, values in [0, 1] chosen by the drawn body; a drawn
    string id is kept."""
    shape = [1 if d == -1 else d for d in spec["shape"]]
    data = [round(float(v), 4) for v in drawn_rng(drawn).random(int(np.prod(shape)))]
    tensor = {"name": spec["name"], "shape": shape, "datatype": spec["datatype"], "data": data}
    request_id = drawn.get("id") if isinstance(drawn, dict) else None
    return {"id": request_id if isinstance(request_id, str) else None, "inputs": [tensor]}


def _binary_request(request: dict[str, Any]) -> tuple[bytes, bytes]:
    """The same request with its input's data as raw little-endian float32 after the JSON."""
    tensor = dict(request["inputs"][0])
    raw = np.asarray(tensor.pop("data"), "<f4").tobytes()
    tensor["parameters"] = {"binary_data_size": len(raw)}
    return json.dumps({**request, "inputs": [tensor]}).encode(), raw


def _resized(latent: Any, dim: int) -> Any:
    if not isinstance(latent, list):
        return latent
    return (latent + [0.0] * dim)[:dim]


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    if case.path.startswith("/v2/") and case.path.endswith("/infer"):
        spec = _tensor_spec(str((case.path_parameters or {}).get("model_name", "")))
        if spec is None:  # an unknown model: the documented 404, whatever the body
            return case
        if case.media_type == "application/octet-stream":  # the binary tensor data extension
            head, raw = _binary_request(_valid_request(case.body, spec))
            case.body = head + raw
            case.headers = {
                **(case.headers or {}),
                "Inference-Header-Content-Length": str(len(head)),
            }
        else:
            case.body = _valid_request(case.body, spec)
        return case
    if not isinstance(case.body, dict):
        return case
    files = case.body.get("file")
    if (case.media_type or "").startswith("multipart/") and isinstance(files, list):
        # In place: a body a hook replaces that holds binary data is one Schemathesis can no
        # longer check, so it would count the case as negative.
        salt = repr(case.query)
        files[:] = [image_like(f, f"{salt}{i}") for i, f in enumerate(files)]
        return case
    if case.path not in ("/decode", "/interpolate"):
        return case
    default, dims = _models()
    name = (case.query or {}).get("model") or default
    dim = dims.get(str(name))
    if dim is None:  # an unknown model: the documented 404, whatever the body
        return case
    body = dict(case.body)
    for key in ("latent", "start", "end"):
        if key in body:
            body[key] = _resized(body[key], dim)
    if isinstance(body.get("latents"), list):
        body["latents"] = [_resized(row, dim) for row in body["latents"]]
    case.body = body
    return case

"""/openapi.json as the contract: FastAPI's document, completed with what only start-up knows.

Generated clients and fuzzers (Schemathesis in CI) believe this document, so it says what the
service does: the caps from the settings (`x-cap` markers in schemas.py and routes/docs.py
become `maximum`/`maxItems`), the labels /sample accepts, each model's latent size (a
per-request check the schema can only describe), 401 where an API key guards the route, and
our error shape where FastAPI would document its own 422 body. It is rebuilt when the models
served change (live reload), and cached otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from service.config import Settings
from service.http.routes.docs import errors
from service.http.schemas import ErrorResponse
from service.repository.registry import Registry
from service.repository.sprites import atlas_splits

Doc = dict[str, Any]
# What the document depends on besides the code: per served model and version, its latent
# size and its label names (None: no label priors).
Served = tuple[tuple[str, int, int, tuple[str, ...] | None], ...]
_OIP = "/v2"
_METHODS = ("get", "post", "put", "delete", "patch")


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Serve the completed document from /openapi.json (and /docs)."""
    built: dict[str, Any] = {}

    def openapi() -> Doc:
        served = _served(app.state.service.registry)
        if built.get("served") != served:
            app.openapi_schema = None  # FastAPI's own generator, run afresh
            doc = complete(FastAPI.openapi(app), settings, served)
            built.update(served=served, doc=doc)
            app.openapi_schema = doc
        document: Doc = built["doc"]
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _served(registry: Registry | None) -> Served:
    if registry is None:
        return ()
    return tuple(
        (name, version, model.latent_dim, _labels(model.label_priors))
        for name, versions in sorted(registry.versions.items())
        for version, model in sorted(versions.items())
    )


def _labels(priors: Any) -> tuple[str, ...] | None:
    return None if priors is None else tuple(priors.names)


def complete(doc: Doc, settings: Settings, served: Served) -> Doc:
    """FastAPI's document with the caps, statuses and model facts filled in."""
    _apply_caps(doc, settings)
    for path, op in _operations(doc):
        _our_validation_errors(op)
        for param in op.get("parameters", []):
            param["schema"] = _without_null(param["schema"])
        if settings.api_key is not None and op.get("security"):
            _document_401(path, op)
        for status, response in op["responses"].items():
            if status == "503":
                response.setdefault("headers", {})["Retry-After"] = _RETRY_AFTER
    _describe_models(doc, served)
    _path_examples(doc, served, settings.model_dir)
    # FastAPI drops every null from the document (exclude_none), examples' values included.
    not_ready = doc["paths"].get("/readyz", {}).get("get", {}).get("responses", {}).get("503")
    if not_ready is not None:
        not_ready["content"]["application/json"].get("example", {}).setdefault("default", None)
    schemas = doc.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


_RETRY_AFTER = {
    "description": "seconds to wait; sent when the request was not run (queue full, or it "
    "waited longer than LATENTLAB_REQUEST_TIMEOUT_S)",
    "schema": {"type": "integer", "minimum": 0},
}


def _operations(doc: Doc) -> Iterator[tuple[str, Doc]]:
    for path, item in doc["paths"].items():
        for method in _METHODS:
            if method in item:
                yield path, item[method]


def _walk(node: Any, visit: Callable[[Doc], None]) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def _apply_caps(doc: Doc, settings: Settings) -> None:
    """`"x-cap": "max_batch"` -> maxItems (arrays) or maximum (numbers) from the settings."""

    def visit(node: Doc) -> None:
        setting = node.pop("x-cap", None)
        if setting is not None:
            limit = getattr(settings, setting)
            node["maxItems" if node.get("type") == "array" else "maximum"] = limit

    _walk(doc, visit)


def _without_null(schema: Doc) -> Doc:
    """A query or path value is never JSON null: `anyOf: [X, null]` is just X, optional."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        rest = [s for s in options if s.get("type") != "null"]
        if len(rest) == 1 and len(rest) < len(options):
            extra = {k: v for k, v in schema.items() if k != "anyOf"}
            return {**rest[0], **extra}
    return schema


def _our_validation_errors(op: Doc) -> None:
    """FastAPI documents its own 422 body wherever a route has parameters; ours differ. A
    route that can fail validation declares its 422 (routes/docs.errors); /v2 answers 400."""
    response = op["responses"].get("422")
    if response is None:
        return
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("$ref", "").endswith("/HTTPValidationError"):
        del op["responses"]["422"]


def _document_401(path: str, op: Doc) -> None:
    if path == _OIP or path.startswith(_OIP + "/"):
        body = {"$ref": "#/components/schemas/OipErrorBody"}
        example = {"error": "missing or wrong API key; send it in the X-API-Key header"}
        op["responses"]["401"] = {
            "description": "error (see `error`)",
            "content": {"application/json": {"schema": body, "example": example}},
        }
        return
    entry = errors(401)[401]
    content = entry["content"]["application/json"]
    content["schema"] = {"$ref": f"#/components/schemas/{ErrorResponse.__name__}"}
    op["responses"]["401"] = {"description": entry["description"], "content": entry["content"]}


def _describe_models(doc: Doc, served: Served) -> None:
    """Per-model facts the schema cannot tie to ?model=: latent sizes (a wrong length is a 422
    `latent_size`), the labels /sample takes, and the /v2 tensor shapes."""
    if not served:
        return
    sizes = ", ".join(f"{name} v{version}: {dim}" for name, version, dim, _ in served)
    note = (
        f"\n\nLatent sizes D of the models served ({sizes}); a latent of another length is a "
        "422 `latent_size`."
    )
    paths = doc["paths"]
    for path in ("/decode", "/interpolate"):
        if path in paths:
            paths[path]["post"]["description"] += note
    decoders = ", ".join(f"{n}-decoder v{v}: [-1, {d}]" for n, v, d, _ in served)
    for path, item in paths.items():
        if path.startswith(_OIP) and path.endswith("/infer"):
            item["post"]["description"] += (
                f"\n\nInput tensors: NAME-encoder `images` FP32 [-1, 1, 28, 28]; NAME-decoder "
                f"`latents` FP32 ({decoders}). Any other tensor is a 400."
            )
    if "/sample" in paths:
        _label_param(paths["/sample"]["get"], served)


def _path_examples(doc: Doc, served: Served, model_dir: Path) -> None:
    """Served names and versions, and the datasets and splits with sprite atlases, as examples
    of the path parameters (for /docs, and so that fuzzers reach more than the 404)."""
    names = sorted({name for name, *_ in served})
    examples = {
        "name": names,
        "model_name": [f"{name}-{role}" for name in names for role in ("encoder", "decoder")],
        "model_version": sorted({str(version) for _, version, *_ in served}),
    }
    atlases = atlas_splits(model_dir)
    if atlases:
        examples["dataset"] = sorted(atlases)
        examples["split"] = atlases[min(atlases)]
    for _, op in _operations(doc):
        for param in op.get("parameters", []):
            if param["in"] == "path" and param["name"] in examples:
                param["examples"] = {value: {"value": value} for value in examples[param["name"]]}


def _label_param(op: Doc, served: Served) -> None:
    """?label= values: a label name (any case) or number of the model, comma-separated."""
    names = sorted({n for *_, labels in served if labels for n in labels})
    counts = [len(labels) for *_, labels in served if labels]
    param = next((p for p in op.get("parameters", []) if p["name"] == "label"), None)
    if param is None or not counts:
        return
    tokens = {_caseless(n) for n in names} | {str(i) for i in range(max(counts))}
    token = "(?:" + "|".join(sorted(tokens, key=lambda t: (-len(t), t))) + ")"
    # The service splits on commas and strips whitespace; empty pieces are skipped, but each
    # value must hold at least one label.
    pattern = rf"^[\s,]*{token}(?:\s*,[\s,]*{token})*[\s,]*$"
    param["schema"]["items"] = {"type": "string", "pattern": pattern}
    per_model = {name: labels for name, _, _, labels in served}  # the latest version's
    listed = "; ".join(
        f"{name}: {', '.join(labels)}" if labels else f"{name}: none (422 `no_label_priors`)"
        for name, labels in per_model.items()
    )
    param["description"] = f"{param.get('description', '')}. Labels per model: {listed}"


_REGEX_SYNTAX = set("^$\\.*+?()[]{}|/")


def _caseless(name: str) -> str:
    """`name` as an ECMA-262 regex matching it in any case (JSON Schema has no flags)."""
    out = []
    for ch in name:
        if ch.lower() != ch.upper() and len(ch.lower()) == len(ch.upper()) == 1:
            out.append(f"[{ch.lower()}{ch.upper()}]")
        else:
            out.append("\\" + ch if ch in _REGEX_SYNTAX else ch)
    return "".join(out)

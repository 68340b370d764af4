"""Loads models/ (at start-up, and again on each reload): every version folder is checked
(manifest, sha256, runtime smoke test, embeddings) and either served or skipped with the
reason logged and kept for /readyz."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from service.engine.runtime import EngineChoice, Runtime
from service.errors import ModelNotFound, NotReady
from service.repository.artifacts import load_runtime
from service.repository.embeddings import EmbeddingTable
from service.repository.layout import Signature, VersionFolder, scan, served_versions
from service.repository.learned_prior import LearnedPrior
from service.repository.manifest import Manifest
from service.repository.model import Prior, Projection, ServedModel

log = logging.getLogger(__name__)


class BrokenModel(Exception):
    """A model folder that cannot be served; the message says why."""


@dataclass
class Registry:
    versions: dict[str, dict[int, ServedModel]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # folder or name/version -> reason
    default: str | None = None

    @property
    def models(self) -> dict[str, ServedModel]:
        """Each model's default version: the highest one served."""
        return {name: vs[max(vs)] for name, vs in self.versions.items()}

    def get(self, name: str | None, version: int | None = None) -> ServedModel:
        """The named model (or the default one) at `version` (or its default version);
        ModelNotFound lists the names or versions there are."""
        if not self.versions:
            raise NotReady("no models are loaded; check LATENTLAB_MODEL_DIR and /readyz")
        key = name or self.default
        if key is None or key not in self.versions:
            names = ", ".join(sorted(self.versions))
            raise ModelNotFound(f"no model named {name!r}; available models: {names}")
        versions = self.versions[key]
        if version is None:
            return versions[max(versions)]
        if version not in versions:
            served = ", ".join(str(v) for v in sorted(versions))
            raise ModelNotFound(f"model {key} has no version {version} served; versions: {served}")
        return versions[version]


# A version folder's load result, kept while its files stay the same: (signature, model or
# the reason it failed). Reloads reuse unchanged versions instead of loading them again.
LoadCache = dict[Path, tuple[Signature, ServedModel | str]]


def load_registry(
    model_dir: Path,
    default: str,
    engine: EngineChoice = "auto",
    threads: int = 1,
    cache: LoadCache | None = None,
) -> Registry:
    """Every model version under `model_dir` (repository.py has the layout), checked."""
    registry = Registry()
    if not model_dir.is_dir():
        log.error("model dir %s does not exist; set LATENTLAB_MODEL_DIR", model_dir.resolve())
        return registry
    cache = {} if cache is None else cache
    folders, policies = scan(model_dir)
    loaded: dict[str, dict[int, ServedModel]] = {}
    for folder in folders:
        result = _cached_load(folder, engine, threads, cache)
        if isinstance(result, str):
            registry.failed[folder.key] = result
        else:
            loaded.setdefault(folder.name, {})[folder.version] = result
    for name, versions in loaded.items():
        keep = served_versions(list(versions), policies.get(name, "latest"))
        if keep:
            registry.versions[name] = {v: versions[v] for v in keep}
    for path in [p for p in cache if p not in {f.path for f in folders}]:
        del cache[path]  # removed from disk
    registry.default = _pick_default(registry, default)
    served = {n: sorted(vs) for n, vs in registry.versions.items()}
    log.info("serving %s (default %s)", served, registry.default)
    return registry


def _cached_load(
    folder: VersionFolder, engine: EngineChoice, threads: int, cache: LoadCache
) -> ServedModel | str:
    hit = cache.get(folder.path)
    if hit is not None and hit[0] == folder.signature:
        return hit[1]
    result: ServedModel | str
    try:
        result = load_model(folder.path, engine, threads, folder.name, folder.version)
    except BrokenModel as exc:
        result = str(exc)
        log.warning("skipping model %s: %s", folder.key, exc)
    except Exception as exc:  # the runtimes and numpy raise many kinds
        result = f"cannot load: {type(exc).__name__}"
        log.warning("skipping model %s", folder.key, exc_info=True)
    cache[folder.path] = (folder.signature, result)
    return result


def _pick_default(registry: Registry, wanted: str) -> str | None:
    if wanted in registry.versions or not registry.versions:
        return wanted if registry.versions else None
    fallback = sorted(registry.versions)[0]
    log.warning("default model %r is not loaded; using %r instead", wanted, fallback)
    return fallback


def load_model(
    folder: Path,
    engine: EngineChoice = "auto",
    threads: int = 1,
    name: str | None = None,
    version: int = 1,
) -> ServedModel:
    """One version folder of the model repository, checked end to end. Its embeddings bodies
    are rendered on first request, not here: loading only reads and checks."""
    name = name or folder.name
    manifest_json = _read_manifest(folder / "manifest.json")
    manifest = _validate(manifest_json)
    if manifest.name != name:
        log.info("folder %s holds manifest name %r; serving it as %s", folder, manifest.name, name)
    try:
        runtime = load_runtime(folder, manifest, engine, threads, check_sha256)
    except ValueError as exc:  # the artifact the settings ask for is not in this folder
        raise BrokenModel(str(exc)) from exc
    _smoke_test(runtime, manifest.latent_dim)
    embeddings = EmbeddingTable.load(folder / manifest.embeddings.file, name, manifest)
    learned = None
    if manifest.learned_prior is not None:
        check_sha256(folder / manifest.learned_prior.file, manifest.learned_prior.sha256)
        learned = LearnedPrior.load(folder / manifest.learned_prior.file, manifest.learned_prior,
                                    threads)  # fmt: skip
    return ServedModel(
        name=name,
        version=version,
        manifest=manifest,
        manifest_json=manifest_json,
        runtime=runtime,
        prior=Prior.from_spec(manifest.prior),
        embeddings=embeddings,
        projection=_projection(manifest),
        learned_prior=learned,
    )


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BrokenModel("manifest.json is missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BrokenModel(f"manifest.json is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise BrokenModel("manifest.json is not a JSON object")
    return data


def _validate(data: dict[str, Any]) -> Manifest:
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BrokenModel(f"manifest.json: {where}: {first['msg']}") from exc


def check_sha256(path: Path, expected: str) -> None:
    if not path.is_file():
        raise BrokenModel(f"{path.name} is missing")
    digest = _sha256(path)
    if digest != expected:
        raise BrokenModel(
            f"{path.name} sha256 {digest[:12]}... does not match the manifest's "
            f"{expected[:12]}...; re-export the model"
        )


def _smoke_test(runtime: Runtime, latent_dim: int) -> None:
    """Both verbs run and give the contract's shapes; a few calls also warm the runtime up."""
    for n in (1, 2, 1):
        z = runtime.encode(np.zeros((n, 1, 28, 28), np.float32))
        x = runtime.decode(np.zeros((n, latent_dim), np.float32))
        if tuple(z.shape) != (n, latent_dim) or tuple(x.shape) != (n, 1, 28, 28):
            raise BrokenModel(
                f"{runtime.kind} gives latents {tuple(z.shape)} and images {tuple(x.shape)}; "
                f"expected ({n}, {latent_dim}) and ({n}, 1, 28, 28)"
            )


def _projection(manifest: Manifest) -> Projection:
    spec, dim = manifest.embeddings.projection, manifest.latent_dim
    mean, axes = np.asarray(spec.mean, np.float32), np.asarray(spec.axes, np.float32)
    if mean.shape != (dim,) or axes.shape != (dim, 3):
        raise BrokenModel(
            f"embeddings.projection has shapes {mean.shape}, {axes.shape}; "
            f"expected ({dim},) and ({dim}, 3)"
        )
    return Projection(axes, -mean @ axes)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

"""The model repository's layout: which version folders exist, and which of them to serve.

    models/<name>/manifest.json        a flat folder (written before versions): version 1
    models/<name>/<N>/manifest.json    Triton's layout: one complete folder per version N
    models/<name>/serving.json         optional: {"version_policy": "latest" | "all" | [1, 3]}

"latest" (the default) serves the highest version that loads: a broken new version leaves
the one before it serving. Names starting with . or _ (temp folders, caches) are skipped."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

Policy = str | list[int]  # "latest", "all", or the version numbers to serve
Signature = tuple[tuple[str, int, int], ...]  # (file name, size, mtime_ns) of a folder's files


@dataclass(frozen=True)
class VersionFolder:
    name: str  # the model's name in the API
    version: int
    path: Path
    flat: bool  # a folder from before versions (served as version 1)
    signature: Signature  # changes when any of its files is replaced or rewritten

    @property
    def key(self) -> str:
        """How /readyz names it: the folder name for flat folders, else name/version."""
        return self.name if self.flat else f"{self.name}/{self.version}"


def scan(model_dir: Path) -> tuple[list[VersionFolder], dict[str, Policy]]:
    """Every version folder under `model_dir`, and each model's version policy."""
    folders: list[VersionFolder] = []
    policies: dict[str, Policy] = {}
    for model in sorted(_visible(model_dir)):
        if (model / "manifest.json").is_file() or not _numbered(model):
            folders.append(VersionFolder(model.name, 1, model, True, signature(model)))
            continue
        policies[model.name] = read_policy(model / "serving.json")
        for version in _numbered(model):
            path = model / str(version)
            folders.append(VersionFolder(model.name, version, path, False, signature(path)))
    return folders, policies


def _visible(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))]


def _numbered(model: Path) -> list[int]:
    return sorted(int(p.name) for p in _visible(model) if p.name.isdigit() and int(p.name) > 0)


def signature(folder: Path) -> Signature:
    """Names, sizes and modification times of the folder's files (not its report/)."""
    entries = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.is_file():
            stat = path.stat()
            entries.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


def read_policy(path: Path) -> Policy:
    """The model's version policy; a missing or unreadable serving.json means "latest"."""
    if not path.is_file():
        return "latest"
    try:
        policy = json.loads(path.read_text())["version_policy"]
    except (OSError, ValueError, KeyError, TypeError):
        log.warning('%s is not {"version_policy": ...}; serving the latest version', path)
        return "latest"
    if policy in ("latest", "all"):
        return str(policy)
    if isinstance(policy, list) and all(isinstance(v, int) for v in policy):
        return [int(v) for v in policy]
    log.warning("%s: version_policy %r is not latest, all or a list; using latest", path, policy)
    return "latest"


def served_versions(loaded: list[int], policy: Policy) -> list[int]:
    """Which of the versions that loaded to serve under `policy`."""
    if not loaded:
        return []
    if policy == "latest":
        return [max(loaded)]
    if policy == "all":
        return sorted(loaded)
    return sorted(v for v in loaded if v in policy)

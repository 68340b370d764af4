"""Live reload: the worker watches the model repository and swaps in what changed while it
keeps serving (Triton's "poll" mode). Control stays on the filesystem: no HTTP endpoint
loads or deletes models (the TorchServe management-API lesson).

Every LATENTLAB_POLL_SECONDS the worker compares each version folder's file signatures with
what it loaded. On a change it loads only the new or changed versions, off the event loop,
checks them end to end (sha256, smoke test, embeddings), and then swaps the whole registry in
one assignment: a request sees the old set or the new one, never half of each. A version
that fails stays out (listed in /readyz) and, under the "latest" policy, the one before it
keeps serving. A removed version takes no new requests; its queued ones still finish on its
batchers, which are closed once drained. Every worker polls the same folders, so all of them
converge on the same set; SIGHUP (gunicorn) instead replaces the workers with fresh ones."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Protocol

from anyio import to_thread

from service.config import Settings
from service.metrics import Metrics
from service.repository.layout import Signature, scan
from service.repository.model import ServedModel
from service.repository.registry import LoadCache, Registry, load_registry

log = logging.getLogger(__name__)


class StateHolder(Protocol):
    """What the reloader swaps: anything with a `registry` attribute (the app's state)."""

    registry: Registry | None


class Retirer(Protocol):
    """What is told of a version that is no longer served (the engine, which closes its
    batchers once they drain)."""

    def retire(self, served: ServedModel) -> None: ...


class Reloader:
    """Loads the repository, and reloads it when its files change."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings, self.metrics = settings, metrics
        self._cache: LoadCache = {}
        self._seen: dict[Path, Signature] = {}

    def load(self) -> Registry:
        """The registry as the folders are now (unchanged versions reused from the cache)."""
        s = self.settings
        self._seen = self._signatures()
        registry = load_registry(s.model_dir, s.default_model, s.engine, s.torch_threads,
                                 self._cache)  # fmt: skip
        self.metrics.models_loaded.set(len(registry.versions))
        self.metrics.models_failed.set(len(registry.failed))
        return registry

    def changed(self) -> bool:
        return self._signatures() != self._seen

    def _signatures(self) -> dict[Path, Signature]:
        folders, _ = scan(self.settings.model_dir)
        policies = sorted(self.settings.model_dir.glob("*/serving.json"))
        found = {f.path: f.signature for f in folders}
        for path in policies:  # a policy edit changes what is served too
            stat = path.stat()
            found[path] = ((path.name, stat.st_size, stat.st_mtime_ns),)
        return found

    async def poll(self, state_holder: StateHolder, engine: Retirer, seconds: float) -> None:
        """Forever: every `seconds`, reload if anything changed on disk."""
        while True:
            await asyncio.sleep(seconds)
            try:
                if await to_thread.run_sync(self.changed):
                    await self.swap(state_holder, engine)
            except Exception:  # a reload must never take the serving worker down
                log.exception("model reload failed; still serving the previous set")

    async def swap(self, state_holder: StateHolder, engine: Retirer) -> None:
        old = state_holder.registry
        new = await to_thread.run_sync(self.load)
        state_holder.registry = new
        kept = {id(m) for vs in new.versions.values() for m in vs.values()}
        if old is not None:
            for versions in old.versions.values():
                for served in versions.values():
                    if id(served) not in kept:
                        engine.retire(served)
        log.info("reloaded: %s", {n: sorted(vs) for n, vs in new.versions.items()})

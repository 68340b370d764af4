"""The engine of one worker process: a Batcher per (model, verb), made on first use."""

from __future__ import annotations

from service.engine.batcher import Array, Batcher, BatchPolicy
from service.metrics import Metrics
from service.model import ServedModel


class Engine:
    def __init__(self, policy: BatchPolicy, metrics: Metrics) -> None:
        self.policy, self.metrics = policy, metrics
        self._batchers: dict[tuple[int, str], Batcher] = {}

    def _batcher(self, served: ServedModel, verb: str) -> Batcher:
        key = (id(served), verb)  # per loaded model object: a reloaded model gets its own
        batcher = self._batchers.get(key)
        if batcher is None:
            forward = served.encode if verb == "encode" else served.decode
            batcher = Batcher(served.name, verb, forward, self.policy, self.metrics)
            self._batchers[key] = batcher
        return batcher

    async def encode(self, served: ServedModel, images: Array) -> Array:
        """(N, 28, 28) in [0, 1] -> (N, D), batched with other requests to this model."""
        return await self._batcher(served, "encode")(images)

    async def decode(self, served: ServedModel, latents: Array) -> Array:
        """(N, D) -> (N, 28, 28) in [0, 1], batched with other requests to this model."""
        return await self._batcher(served, "decode")(latents)

    async def close(self) -> None:
        for batcher in self._batchers.values():
            await batcher.close()
        self._batchers.clear()

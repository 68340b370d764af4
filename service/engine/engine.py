"""The engine of one worker process: a Batcher per (model, verb), made on first use."""

from __future__ import annotations

import asyncio
from typing import Protocol

from service.engine.batcher import Array, Batcher, BatchPolicy
from service.metrics import Metrics


class Servable(Protocol):
    """What the engine batches for: a named model's encode and decode on NumPy batches
    (service/repository/model.py's ServedModel is one)."""

    @property
    def name(self) -> str: ...

    def encode(self, images: Array) -> Array:
        """(N, 28, 28) in [0, 1] -> (N, D)."""
        ...

    def decode(self, latents: Array) -> Array:
        """(N, D) -> (N, 28, 28) in [0, 1]."""
        ...


class Engine:
    def __init__(self, policy: BatchPolicy, metrics: Metrics) -> None:
        self.policy, self.metrics = policy, metrics
        self._batchers: dict[tuple[int, str], Batcher] = {}
        self._retiring: set[asyncio.Task[None]] = set()

    def _batcher(self, served: Servable, verb: str) -> Batcher:
        key = (id(served), verb)  # per loaded model object: a reloaded model gets its own
        batcher = self._batchers.get(key)
        if batcher is None:
            forward = served.encode if verb == "encode" else served.decode
            batcher = Batcher(served.name, verb, forward, self.policy, self.metrics)
            self._batchers[key] = batcher
        return batcher

    async def encode(self, served: Servable, images: Array) -> Array:
        """(N, 28, 28) in [0, 1] -> (N, D), batched with other requests to this model."""
        return await self._batcher(served, "encode")(images)

    async def decode(self, served: Servable, latents: Array) -> Array:
        """(N, D) -> (N, 28, 28) in [0, 1], batched with other requests to this model."""
        return await self._batcher(served, "decode")(latents)

    def retire(self, served: Servable, grace: float = 30.0) -> None:
        """A model version no longer served: its batchers finish what is queued, then close
        (after `grace` seconds, so a request that looked the model up just before the swap
        still gets its answer)."""
        for verb in ("encode", "decode"):
            batcher = self._batchers.pop((id(served), verb), None)
            if batcher is not None:
                self._retiring.add(
                    asyncio.get_running_loop().create_task(_close_later(batcher, grace))
                )

    async def close(self) -> None:
        for batcher in self._batchers.values():
            await batcher.close()
        self._batchers.clear()
        for task in self._retiring:
            task.cancel()


async def _close_later(batcher: Batcher, grace: float) -> None:
    await asyncio.sleep(grace)
    while batcher.queued:
        await asyncio.sleep(0.05)
    await batcher.close()

"""Image work kept apart from latent requests: each worker decodes and preprocesses uploads in
a bounded pool of its own, so a flood of uploads degrades uploads, not /decode, /sample or /v2.

The pool is `workers` child processes (LATENTLAB_IMAGE_WORKERS), started with `spawn` (a
fresh interpreter that imports only numpy, Pillow and scipy, not the model runtime) and run
at a lower CPU priority (LATENTLAB_IMAGE_NICE): while the worker's event loop has latent
requests to answer, the kernel gives it the CPU first. Threads could not do that: a thread
preprocessing an image holds the GIL the event loop needs. At most `workers + queue` uploads
are accepted at once (LATENTLAB_IMAGE_QUEUE waiting); more are answered 503 with Retry-After
at once, and an upload still unanswered after LATENTLAB_REQUEST_TIMEOUT_S gets a 503 too.
With workers=0 the work runs in the handler's thread pool instead (no isolation; for
tests that patch the preprocessing, and for platforms without subprocesses).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, ClassVar

from service.errors import Overloaded
from service.images.inputs import Array, Invert, Limits, file_batch
from service.metrics import Metrics


class PoolFull(Overloaded):
    code = "image_pool_full"
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "1"}


class ImagePool:
    """One worker's bounded pool for upload decoding and preprocessing."""

    def __init__(self, workers: int, queue: int, nice: int, metrics: Metrics) -> None:
        self.workers, self.queue, self.nice = workers, queue, nice
        self.metrics = metrics
        self.in_flight = 0  # accepted and not yet finished; touched on the event loop only
        self._executor: Executor | None = None
        self._ready: Future[None] | None = None  # the first job: the processes have started

    @property
    def capacity(self) -> int:
        return max(self.workers, 1) + self.queue

    async def run(
        self, files: list[bytes], invert: Invert, limits: Limits, timeout: float
    ) -> tuple[Array, bool]:
        """The uploads as (N, 28, 28) and whether one was sent; 503 when full or too slow."""
        if self.in_flight >= self.capacity:
            self.metrics.image_rejected.labels("full").inc()
            raise PoolFull(
                f"{self.in_flight} uploads are being processed or waiting on this worker "
                f"(LATENTLAB_IMAGE_WORKERS={self.workers}, LATENTLAB_IMAGE_QUEUE={self.queue}); "
                "retry shortly"
            )
        loop = asyncio.get_running_loop()
        pool, ready = self._pool()
        self.in_flight += 1  # counted from here, so the bound holds while a pool starts
        try:
            await asyncio.shield(asyncio.wrap_future(ready))  # starting is not the upload's time
            future = pool.submit(_job, files, invert, limits)
        finally:
            self.in_flight -= 1
        self._started(loop, future)
        try:
            images, single, busy = await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            self.metrics.image_rejected.labels("timeout").inc()
            raise Overloaded(
                f"the upload was not processed within {timeout:g} s "
                "(LATENTLAB_REQUEST_TIMEOUT_S); retry shortly, or send smaller images"
            ) from None
        self.metrics.image_busy.inc(busy)
        return images, single

    def _started(self, loop: asyncio.AbstractEventLoop, future: Future[Any]) -> None:
        """Count the job until it really ends (a timed-out job still holds its process)."""
        self.in_flight += 1
        self._gauges()

        def finished(_: Future[Any]) -> None:
            if not loop.is_closed():  # the app may have stopped meanwhile
                loop.call_soon_threadsafe(self._finished)

        future.add_done_callback(finished)

    def _finished(self) -> None:
        self.in_flight -= 1
        self._gauges()

    def _gauges(self) -> None:
        workers = max(self.workers, 1)
        self.metrics.image_busy_now.set(min(self.in_flight, workers))
        self.metrics.image_waiting.set(max(self.in_flight - workers, 0))

    def _pool(self) -> tuple[Executor, Future[None]]:
        """The executor, started on first use, and a future done once its processes run."""
        if self._executor is None or self._ready is None:
            if self.workers == 0:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="images")
            else:
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_child_start,
                    initargs=(self.nice,),
                )
            self._ready = self._executor.submit(_warm)
        return self._executor, self._ready

    def close(self) -> None:
        """Stop the processes; jobs not started are dropped."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor, self._ready = None, None


def _child_start(nice: int) -> None:
    """In each pool process: lower its priority, and import what a job needs once."""
    if nice > 0:
        os.nice(nice)
    from scipy import ndimage  # noqa: F401  (the first upload should not pay for it)


def _warm() -> None:
    """A first job that does nothing: it returns once a process has started."""


def _job(files: list[bytes], invert: Invert, limits: Limits) -> tuple[Array, bool, float]:
    """In a pool process: the batch, and the seconds it kept the process busy."""
    start = time.perf_counter()
    images, single = file_batch(files, invert, limits)
    return images, single, time.perf_counter() - start

"""Dynamic batching: concurrent requests to one model verb become one forward pass.

Each request puts its rows on a bounded queue and awaits a future. One task per (model,
verb) takes the queue in batches of up to `max_rows` rows (never splitting a request),
waiting up to `max_delay` for a batch to fill (Triton's max_queue_delay_microseconds, Ray
Serve's batch_wait_timeout_s); with no delay it takes whatever arrived while the previous
batch ran. A full queue is refused at once (503), and a request that waited past `timeout`
gets 503 as well: nothing waits without bound.

Where the forward pass runs: a batch expected to take under `inline_budget` runs on the
event loop itself, because for these sub-millisecond models a thread hand-off costs more than
the model; a bigger one runs on this batcher's own thread, so the loop keeps serving."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from service.errors import Overloaded
from service.metrics import Metrics

Array = np.ndarray[Any, np.dtype[np.float32]]
Forward = Callable[[Array], Array]


@dataclass(frozen=True)
class BatchPolicy:
    max_rows: int  # rows (latents or images) in one forward pass
    max_delay: float  # seconds to wait for more rows once one request is queued
    max_queue: int  # requests waiting per model verb; more are refused with 503
    timeout: float  # seconds a request may wait before it is answered 503
    inline_budget: float  # seconds: batches expected to run faster stay on the event loop


@dataclass
class _Request:
    rows: Array
    future: asyncio.Future[Array]
    queued_at: float = field(default_factory=time.perf_counter)


class Batcher:
    """The queue and batching task of one (model, verb)."""

    def __init__(
        self, model: str, verb: str, forward: Forward, policy: BatchPolicy, metrics: Metrics
    ) -> None:
        self.model, self.verb, self.forward = model, verb, forward
        self.policy, self.metrics = policy, metrics
        self._queue: deque[_Request] = deque()
        self._arrived = asyncio.Event()
        self._seconds_per_row = 0.0  # running estimate, for the inline-or-thread choice
        self._thread: ThreadPoolExecutor | None = None
        # Labelled metric children, looked up once rather than on every request.
        self._depth = metrics.queue_depth.labels(model)
        self._queue_time = metrics.queue_time.labels(model, verb)
        self._batch_size = metrics.batch_size.labels(model, verb)
        self._inference = metrics.inference.labels(model, verb)
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def __call__(self, rows: Array) -> Array:
        """This request's output rows, computed in a batch with whatever else is queued."""
        if len(self._queue) >= self.policy.max_queue:
            self.metrics.rejected.labels(self.model, "queue_full").inc()
            raise Overloaded(
                f"model {self.model} has {len(self._queue)} requests queued "
                f"(LATENTLAB_MAX_QUEUE); retry shortly"
            )
        loop = asyncio.get_running_loop()
        request = _Request(rows, loop.create_future())
        self._queue.append(request)
        self._depth.inc()
        self._arrived.set()
        expiry = loop.call_later(self.policy.timeout, self._expire, request)
        try:
            return await request.future  # a cancelled client cancels it: the batch skips it
        finally:
            expiry.cancel()

    def _expire(self, request: _Request) -> None:
        if not request.future.done():
            self.metrics.rejected.labels(self.model, "timeout").inc()
            request.future.set_exception(
                Overloaded(
                    f"model {self.model} did not answer within {self.policy.timeout:g} s "
                    "(LATENTLAB_REQUEST_TIMEOUT_S); retry shortly"
                )
            )

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            while self._queue:
                await self._fill()
                batch = self._take()
                if batch:
                    await self._execute(batch)

    async def _fill(self) -> None:
        """Wait (at most max_delay after the oldest request queued) for a full batch."""
        deadline = self._queue[0].queued_at + self.policy.max_delay
        while self._rows_queued() < self.policy.max_rows:
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                return

    def _rows_queued(self) -> int:
        return sum(len(r.rows) for r in self._queue)

    def _take(self) -> list[_Request]:
        """Whole requests from the front, up to max_rows rows (at least one request)."""
        batch: list[_Request] = []
        rows = 0
        while self._queue and (
            not batch or rows + len(self._queue[0].rows) <= self.policy.max_rows
        ):
            request = self._queue.popleft()
            self._depth.dec()
            if request.future.done():  # timed out or its client went away
                continue
            batch.append(request)
            rows += len(request.rows)
        return batch

    async def _execute(self, batch: list[_Request]) -> None:
        now = time.perf_counter()
        for request in batch:
            self._queue_time.observe(now - request.queued_at)
        rows = np.concatenate([r.rows for r in batch]) if len(batch) > 1 else batch[0].rows
        self._batch_size.observe(len(rows))
        try:
            out = await self._forward(rows)
        except Exception as exc:  # every request of the batch gets the model's failure
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(exc)
            return
        start = 0
        for request in batch:
            stop = start + len(request.rows)
            if not request.future.done():
                request.future.set_result(out[start:stop])
            start = stop

    async def _forward(self, rows: Array) -> Array:
        expected = self._seconds_per_row * len(rows)
        start = time.perf_counter()
        if expected < self.policy.inline_budget:
            out = self.forward(rows)
        else:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"{self.model}-{self.verb}")
            loop = asyncio.get_running_loop()
            out = await loop.run_in_executor(self._thread, self.forward, rows)
        seconds = time.perf_counter() - start
        self._inference.observe(seconds)
        per_row = seconds / len(rows)
        self._seconds_per_row = (
            per_row if not self._seconds_per_row else (0.9 * self._seconds_per_row + 0.1 * per_row)
        )
        return out

    async def close(self) -> None:
        """Stop the task; requests still queued (none after a graceful drain) get 503."""
        self._task.cancel()
        for request in self._queue:
            if not request.future.done():
                request.future.set_exception(Overloaded("the service is shutting down"))
        self._queue.clear()
        if self._thread is not None:
            self._thread.shutdown(wait=True)

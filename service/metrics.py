"""Prometheus metrics on a registry owned by one app (so tests can build many apps)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Sub-millisecond to seconds: a 3-D decode takes ~0.1 ms, a big image upload ~100 ms.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The service's counters and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "latentlab_requests",
            "HTTP requests by route template, method, model and status code.",
            ["route", "method", "model", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "latentlab_request_duration_seconds",
            "Wall time from request start to the last response byte, by route.",
            ["route", "method"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.inference = Histogram(
            "latentlab_inference_seconds",
            "Time in the model itself (encode, decode, forward, sample), by model.",
            ["model", "op"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.models_loaded = Gauge(
            "latentlab_models_loaded", "Models serving.", registry=self.registry
        )
        self.models_failed = Gauge(
            "latentlab_models_failed", "Model folders skipped as broken.", registry=self.registry
        )

    def observe_request(
        self, route: str, method: str, model: str, status: int, seconds: float
    ) -> None:
        self.requests.labels(route, method, model, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    @contextmanager
    def time_inference(self, model: str, op: str) -> Iterator[None]:
        """Time the block as one `op` of `model`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.inference.labels(model, op).observe(time.perf_counter() - start)

    def render(self) -> bytes:
        return generate_latest(self.registry)

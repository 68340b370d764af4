"""Prometheus metrics. In one process each app owns its registry (so tests can build many
apps); with several worker processes (PROMETHEUS_MULTIPROC_DIR set, as `python -m service`
does) every worker writes its samples to that folder and a scrape, whichever worker answers
it, sums them all (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

# Sub-millisecond to seconds: a 3-D decode takes ~0.03 ms, a big image upload ~100 ms.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_QUEUE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """The service's counters, gauges and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.requests = Counter(
            "latentlab_requests",
            "HTTP requests by route template, method, model and status code.",
            ["route", "method", "model", "status"],
            registry=reg,
        )
        self.latency = Histogram(
            "latentlab_request_duration_seconds",
            "Wall time from request start to the last response byte, by route.",
            ["route", "method"],
            buckets=_BUCKETS,
            registry=reg,
        )
        self.inference = Histogram(
            "latentlab_inference_seconds",
            "Time in the model itself for one batch (encode or decode), by model.",
            ["model", "op"],
            buckets=_BUCKETS,
            registry=reg,
        )
        # The batcher's view, after Triton's nv_inference_queue_duration_us and BentoML's
        # adaptive batch size histogram.
        self.queue_depth = Gauge(
            "latentlab_queue_depth",
            "Requests waiting for a batch, by model (summed over workers).",
            ["model"],
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.queue_time = Histogram(
            "latentlab_queue_seconds",
            "Time a request waited in its model's queue before its batch ran.",
            ["model", "op"],
            buckets=_QUEUE_BUCKETS,
            registry=reg,
        )
        self.batch_size = Histogram(
            "latentlab_batch_size",
            "Rows (latents or images) per forward pass.",
            ["model", "op"],
            buckets=_BATCH_BUCKETS,
            registry=reg,
        )
        self.rejected = Counter(
            "latentlab_rejected_requests",
            "Requests answered 503 without running: queue_full or timeout.",
            ["model", "reason"],
            registry=reg,
        )
        self.models_loaded = Gauge(
            "latentlab_models_loaded",
            "Models serving (each worker loads its own; the highest count among workers).",
            registry=reg,
            multiprocess_mode="livemax",
        )
        self.models_failed = Gauge(
            "latentlab_models_failed",
            "Model folders skipped as broken (the highest count among live workers).",
            registry=reg,
            multiprocess_mode="livemax",
        )

        # The image pool (service/images/pool.py): uploads in progress and waiting, the time
        # its processes spent on them, and the uploads turned away.
        self.image_busy_now = Gauge(
            "latentlab_image_pool_busy",
            "Uploads being decoded and preprocessed now (summed over workers).",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.image_waiting = Gauge(
            "latentlab_image_pool_queue",
            "Uploads waiting for the image pool (summed over workers).",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.image_busy = Counter(
            "latentlab_image_pool_busy_seconds",
            "Seconds the image pool spent decoding and preprocessing uploads.",
            registry=reg,
        )
        self.image_rejected = Counter(
            "latentlab_image_pool_rejected",
            "Uploads answered 503: the pool was full, or the upload timed out.",
            ["reason"],
            registry=reg,
        )

    def observe_request(
        self, route: str, method: str, model: str, status: int, seconds: float
    ) -> None:
        self.requests.labels(route, method, model, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def render(self) -> bytes:
        """Prometheus text: this app's registry, or every worker's samples summed."""
        folder = multiprocess_dir()
        if folder is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=folder)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

"""Every service knob in one typed place, read from LATENTLAB_* env vars and `.env`."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings; each field is also the env var LATENTLAB_<FIELD NAME>."""

    model_config = SettingsConfigDict(
        env_prefix="LATENTLAB_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    model_dir: Path = Path("models")  # the model repository (docs/model-format.md)
    default_model: str = "mlp3d"  # used when a request names no ?model=
    host: str = "0.0.0.0"  # `python -m service` binds here
    port: Annotated[int, Field(ge=1, le=65535)] = 8000  # ... and here
    # Worker processes of `python -m service`; unset: the CPUs this process may use (its
    # affinity and cgroup CPU limit), so a container follows its --cpus / Kubernetes limit.
    workers: Annotated[int, Field(ge=1)] | None = None
    # Model runtime: auto = ONNX Runtime where the manifest lists ONNX files, else TorchScript;
    # torch_export / aoti: the torch.export programs / AOTInductor packages (they import torch).
    engine: Literal["auto", "onnx", "torch_export", "aoti", "torchscript"] = "auto"
    # Intra-op threads of the runtime (ONNX Runtime or torch) per worker: one, because the
    # workers already use every core and these models are far too small to split.
    torch_threads: Annotated[int, Field(ge=1)] = 1
    # Threads for the blocking handler work (image decoding, embeddings rendering). A few per
    # core: more only adds GIL contention and tail latency.
    worker_threads: Annotated[int, Field(ge=1)] = 4
    # Dynamic batching (service/engine/batcher.py): rows per forward pass; 1 turns it off.
    max_batch_size: Annotated[int, Field(ge=1)] = 64
    # How long a batch waits to fill once a request is queued; 0 = take what has arrived.
    max_batch_delay_ms: Annotated[float, Field(ge=0, le=1000)] = 0.0
    max_queue: Annotated[int, Field(ge=1)] = 256  # waiting requests per model verb; more: 503
    request_timeout_s: Annotated[float, Field(gt=0)] = 10.0  # queued longer than this: 503
    # Batches expected to take less than this run on the event loop (no thread hand-off).
    inline_budget_ms: Annotated[float, Field(ge=0)] = 1.0
    # Live reload: every this many seconds, look for new, changed and removed model versions
    # and swap them in while serving (service/repository/reload.py). Unset: load once at start-up.
    poll_seconds: Annotated[float, Field(gt=0)] | None = None
    # SIGTERM: stop accepting, let in-flight requests finish for at most this long, exit 0.
    graceful_timeout_s: Annotated[float, Field(gt=0)] = 20.0
    max_body_bytes: Annotated[int, Field(ge=1024)] = 4 * 1024 * 1024  # request bodies above -> 413
    # width x height above -> 413. At most Pillow's own bomb threshold (89,478,485), so an
    # image Pillow warns about is always one this service rejects anyway.
    max_pixels: Annotated[int, Field(ge=28 * 28, le=89_478_485)] = 4096 * 4096
    max_samples: Annotated[int, Field(ge=1)] = 64  # cap on /sample's n
    max_batch: Annotated[int, Field(ge=1)] = 256  # cap on images or latents in one request
    max_scale: Annotated[int, Field(ge=1)] = 16  # cap on the PNG nearest-neighbour upscale factor
    # Origins allowed to call from a browser: a comma-separated list or a JSON list; "*" = any.
    cors_origins: Annotated[list[str], NoDecode] = []
    api_key: SecretStr | None = None  # when set, every endpoint but health/metrics needs it
    log_level: str = "info"  # for `python -m service`
    # One log line per request (uvicorn's access log). Off: it costs ~10% of a /decode, and
    # /metrics already counts every request by route, model and status.
    access_log: bool = False

    # --- Learned latent prior (issue 23; service/repository/learned_prior.py) ---------------
    # Cap on /sample's ?steps= (midpoint ODE steps, 2 net calls each; the manifest holds the
    # default, 8 for the committed zoo). Cost grows linearly: keep a request's time bounded.
    max_sample_steps: Annotated[int, Field(ge=1)] = 64
    # Cap on /sample's ?guidance= (classifier-free guidance scale for labelled draws).
    max_guidance: Annotated[float, Field(ge=0)] = 10.0

    # --- Image uploads: the work one request may ask for, and where it runs (issue 19) ---
    # Pixels of work per request: each image's decoded pixels (JPEGs decode at draft scale)
    # plus 10x its working copy (service/images/budget.py); above -> 413 before decoding.
    # 64 M lets four 12 MP phone photos through even as PNGs (a JPEG costs ~1.8 M).
    max_request_pixels: Annotated[int, Field(ge=28 * 28)] = 64_000_000
    # Processes per worker that decode and preprocess uploads (service/images/pool.py);
    # 0: in the handler's threads instead (no isolation from latent requests).
    image_workers: Annotated[int, Field(ge=0)] = 1
    image_queue: Annotated[int, Field(ge=0)] = 4  # uploads waiting for them; more: 503
    image_nice: Annotated[int, Field(ge=0, le=19)] = 10  # their CPU priority, below the loop's

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()

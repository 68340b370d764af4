"""Every service knob in one typed place, read from LATENTLAB_* env vars and `.env`."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated

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
    torch_threads: Annotated[int, Field(ge=1)] = 1  # intra-op threads; 1 suits many small requests
    # Threads running the sync (torch) handlers; more requests wait their turn. A few per
    # core: more only adds GIL contention and tail latency.
    worker_threads: Annotated[int, Field(ge=1)] = 4
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

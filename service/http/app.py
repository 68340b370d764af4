"""The FastAPI app: create_app(settings) wires routes, errors, middleware and metrics; the
lifespan loads the models once. service/main.py makes the one `app` that servers import."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from service.config import Settings, get_settings
from service.engine.batcher import BatchPolicy
from service.engine.engine import Engine
from service.http.deps import require_api_key
from service.http.errors import install_error_handlers
from service.http.fastpath import install_fast_routes
from service.http.middleware import ServiceMiddleware
from service.http.openapi import install_openapi
from service.http.routes import (
    decode,
    embeddings,
    encode,
    explorer,
    health,
    interpolate,
    models,
    report,
    v2,
)
from service.http.state import ServiceState
from service.metrics import Metrics
from service.repository.reload import Reloader

log = logging.getLogger(__name__)

DESCRIPTION = """Autoencoders trained on MNIST, served from `models/`.

Pick a model with `?model=NAME` (`GET /models` lists them). Images go in as a multipart
`file`, a raw `image/png`/`image/jpeg` body, or JSON `{"pixels": ...}`; PNGs come back
unless you send `Accept: application/json`. Every error has the same JSON shape:
`{"error": {"code": ..., "message": ..., "status": ...}}`."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the model repository and start the engine (and, if asked, the reload poller);
    nothing is loaded per request."""
    state: ServiceState = app.state.service
    settings = state.settings
    if not logging.getLogger().handlers:  # plain `uvicorn service.main:app`: show our logs
        logging.basicConfig(level=settings.log_level.upper())
    to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
    reloader = Reloader(settings, state.metrics)
    state.registry = reloader.load()
    state.engine = Engine(batch_policy(settings), state.metrics)
    # What is loaded now (modules, models, embeddings) lives as long as the worker: out of the
    # cyclic collector's sight, its full collections stay short whichever way the app was
    # started (`python -m service` freezes the imports before the fork as well, server.py).
    gc.collect()
    gc.freeze()
    poller = None
    if settings.poll_seconds is not None:
        poller = asyncio.create_task(reloader.poll(state, state.engine, settings.poll_seconds))
    yield
    if poller is not None:
        poller.cancel()
    state.registry = None
    await state.engine.close()
    state.engine = None
    state.images.close()  # the upload pool's processes (service/images/pool.py)


def batch_policy(settings: Settings) -> BatchPolicy:
    return BatchPolicy(
        max_rows=settings.max_batch_size,
        max_delay=settings.max_batch_delay_ms / 1000,
        max_queue=settings.max_queue,
        timeout=settings.request_timeout_s,
        inline_budget=settings.inline_budget_ms / 1000,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """A fresh app (own metrics registry); models load when its lifespan starts."""
    settings = settings or get_settings()
    app = FastAPI(title="latentlab", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    state = ServiceState(settings, Metrics())
    app.state.service = state
    install_error_handlers(app)
    install_openapi(app, settings)
    # No GZipMiddleware: it would sit on every request's path on the event loop. The large
    # bodies (embeddings, JSON pixel arrays) are gzipped where they are made (responses.py).
    # Added innermost first: CORS wraps everything, so even errors carry its headers.
    app.add_middleware(
        ServiceMiddleware, metrics=state.metrics, max_body_bytes=settings.max_body_bytes
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key", "If-None-Match"],
            expose_headers=["ETag", "X-Seed"],
        )
    app.include_router(health.router)
    app.include_router(v2.health)  # the protocol's probes, open like /healthz
    guarded = [Depends(require_api_key)] if settings.api_key else []
    for module in (models, report, encode, decode, interpolate, embeddings, v2):
        app.include_router(module.router, dependencies=guarded)
    # The page and its scripts hold no data (it calls the API above), so they stay open.
    app.include_router(explorer.router)
    app.mount("/static", explorer.static_files(), name="static")
    install_fast_routes(app, settings)
    return app

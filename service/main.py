"""The ASGI entry point: `app` is what `python -m service` (gunicorn, service/server.py) and a
plain `uvicorn service.main:app` serve. Settings come from the environment (service/config.py)."""

from __future__ import annotations

from service.http.app import create_app

app = create_app()

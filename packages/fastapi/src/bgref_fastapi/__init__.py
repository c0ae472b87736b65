"""The send-message contract with FastAPI ``BackgroundTasks``, served by uvicorn."""

from __future__ import annotations

from ._app import create_app

__all__ = ["create_app"]

"""The web front: FastAPI validates, acknowledges once Redis holds the job, RQ works."""

from __future__ import annotations

from fastapi import FastAPI

from bgref_message.queue.fastapi import queue_app

from ._lab import lab_router
from ._publisher import make_gate
from ._settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app from ``settings`` (default: read from the environment)."""
    if settings is None:
        settings = Settings.from_env()
    gate = make_gate(settings)
    return queue_app(
        "send-message (RQ)",
        submit=gate.submit,
        unavailable=gate.unavailable,
        start=gate.start,
        stop=gate.close,
        routers=[lab_router(settings)],
    )

"""The web front: FastAPI validates, acknowledges, and hands the work to Celery through Redis."""

from __future__ import annotations

from fastapi import FastAPI

from bgref_message.queue.fastapi import queue_app

from ._celery import make_celery, publisher_transport_options
from ._lab import lab_router
from ._publisher import Publisher
from ._settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app from ``settings`` (default: read from the environment)."""
    if settings is None:
        settings = Settings.from_env()
    publisher = Publisher(
        make_celery(settings),
        publisher_transport_options(settings),
        settings.publish_deadline,
        linger=settings.publish_linger,
    )
    return queue_app(
        "send-message (Celery)",
        submit=publisher.gate.submit,
        unavailable=publisher.gate.unavailable,
        start=publisher.start,
        stop=publisher.close,
        routers=[lab_router(settings)],
    )

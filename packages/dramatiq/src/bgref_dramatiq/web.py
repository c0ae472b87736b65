"""The web front: FastAPI validates, acknowledges once Redis holds the message, Dramatiq works."""

from __future__ import annotations

import functools

from fastapi import FastAPI

from bgref_message.queue import MAX_GROUP, PublishGate
from bgref_message.queue.fastapi import queue_app

from ._actor import declare_actors
from ._broker import make_broker
from ._lab import lab_router
from ._publisher import batch_publisher
from ._settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app from ``settings`` (default: read from the environment)."""
    if settings is None:
        settings = Settings.from_env()
    broker = make_broker(settings, web=True)
    write_messages, _ = declare_actors(broker, settings)

    gate = PublishGate(
        batch_publisher(broker, write_messages),
        broker.client.ping,
        timeout=settings.publish_deadline,
        max_batch=MAX_GROUP,
    )
    return queue_app(
        "send-message (Dramatiq)",
        submit=gate.submit,
        unavailable=gate.unavailable,
        start=gate.start,
        stop=functools.partial(gate.close, release=broker.client.close),
        routers=[lab_router(settings)],
    )

"""The web front: FastAPI validates, acknowledges once Redis holds the message, Dramatiq works."""

from __future__ import annotations

import functools

from fastapi import FastAPI

from bgref_message import PublishGate
from bgref_message.fastapi import queue_app

from ._actor import declare_actor
from ._broker import make_broker
from ._publisher import batch_publisher
from ._settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app from ``settings`` (default: read from the environment)."""
    if settings is None:
        settings = Settings.from_env()
    broker = make_broker(settings, web=True)
    actor = declare_actor(broker, settings)

    gate = PublishGate(
        batch_publisher(broker, actor), broker.client.ping, timeout=settings.publish_deadline
    )
    return queue_app(
        "send-message (Dramatiq)",
        submit=gate.submit,
        unavailable=gate.unavailable,
        start=gate.start,
        stop=functools.partial(gate.close, release=broker.client.close),
    )

"""The web front: FastAPI validates, kicks the task into a Redis stream, and answers."""

from __future__ import annotations

from fastapi import FastAPI

from bgref_message.queue.fastapi import queue_app

from ._broker import StreamBroker
from ._kicker import Kicker
from ._lab import Lab
from ._settings import Settings
from ._tasks import register_tasks

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app from ``settings`` (default: read from the environment)."""
    if settings is None:
        settings = Settings.from_env()
    broker = StreamBroker(settings, worker=False)
    write_messages, _ = register_tasks(broker, settings.retry_budget)
    kicker = Kicker(broker, write_messages, settings.publish_deadline)
    lab = Lab(settings)

    async def stop() -> None:
        await kicker.close()
        await lab.close()

    # kiq awaits redis.asyncio: no thread (bgref_message's PublishGate) is needed
    # to keep the event loop from waiting on Redis; the Kicker groups the
    # messages of concurrent requests, bounds each kick and keeps the breaker.
    return queue_app(
        "send-message (Taskiq)",
        submit=kicker.kick,
        unavailable=kicker.unavailable,
        start=kicker.start,
        stop=stop,
        routers=(lab.router,),
    )

"""The idiomatic version, outside the contract: ``write_message.send(message)``, one each.

This is Dramatiq as its docs show it (Dramatiq's README, Quickstart: an actor
and ``count_words.send(url)``; redis.io, "Redis with Dramatiq": a
``RedisBroker(url=...)``, ``@dramatiq.actor``, ``.send``), called from the
endpoint as FastAPI tutorials do: a plain ``def`` endpoint calls ``.send``, which FastAPI runs in
its thread pool, one Dramatiq message per request, no grouping, the publishing
broker on Dramatiq's and redis-py's defaults (redis-py 8's 5 s socket
timeouts). The same worker processes consume it, with ``write_message``: the
same checks as the grouped actor, and the same acknowledgement after the write.

What the defaults do when Redis is away (tried by hand): down, ``send`` raises
redis-py's ``ConnectionError`` and the request gets FastAPI's 500 at once;
frozen, ``send`` waits out redis-py's 5 s read timeout in a thread-pool thread
(40 of them) and the request gets a 500 then, instead of the contract's 503
within 3 s; ``/baseline/`` and ``/healthz`` (on the event loop) still answer.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from fastapi import APIRouter

from bgref_message import RECEIVED
from bgref_message.fastapi import Message

from ._broker import ACTOR_NAME, QUEUE
from ._settings import Settings

__all__ = ["lab_router"]


def _write_message(message: str) -> None:
    # Never run here: the web only sends; the worker declares its own actor
    # under the same name (bgref_dramatiq.worker).
    raise NotImplementedError(message)


def lab_router(settings: Settings) -> APIRouter:
    """The lab's route, publishing through a Redis broker on Dramatiq's defaults."""
    # Only the URL is set, as in the docs' "RedisBroker(host=...)" and
    # dramatiq.set_broker; here passed to the actor rather than set globally, so
    # that it does not replace the web's own broker.
    broker = RedisBroker(url=settings.redis_url)  # type: ignore[no-untyped-call]
    write_message: dramatiq.Actor[[str], None] = dramatiq.actor(  # type: ignore[call-overload]
        _write_message, actor_name=ACTOR_NAME, queue_name=QUEUE, broker=broker
    )
    router = APIRouter(prefix="/lab", include_in_schema=False)

    # Plain `def`, as in the tutorials: `.send` blocks on Redis, so FastAPI runs
    # the endpoint in its thread pool.
    @router.post("/send/")
    def send(message: Message) -> dict[str, str]:
        """Queue one Dramatiq message for the message; answer."""
        write_message.send(message)
        return RECEIVED

    return router

"""Publishing from the web: the messages of concurrent requests, one RQ job, one round trip.

RQ's client is redis-py's blocking one, so every publish goes through
``bgref_message.PublishGate``: one thread that the event loop awaits, a bound,
and a breaker (see its docs). The gate hands over the messages that arrived
together, up to ``MAX_GROUP``; they go to Redis as one job (``_group``), queued
in one transaction with ``Queue.enqueue_many`` (RQ docs, Jobs: bulk job
enqueueing): every request of the group is answered once Redis holds it.
"""

from __future__ import annotations

from bgref_message import PublishGate

from ._group import MAX_GROUP, prepare_group
from ._queue import make_queue
from ._settings import Settings

__all__ = ["make_gate"]


def make_gate(settings: Settings) -> PublishGate[str]:
    """The web's gate to RQ's queue in Redis."""
    queue, client = make_queue(settings)

    def publish(messages: list[str]) -> None:
        queue.enqueue_many([prepare_group(queue, messages, settings.seconds)])

    return PublishGate(
        publish, client.ping, timeout=settings.publish_deadline, max_batch=MAX_GROUP
    )

"""Publishing from the web: the messages of concurrent requests, one RQ job, one round trip.

RQ's client is redis-py's blocking one, so every publish goes through
``bgref_message.queue.PublishGate``: one thread that the event loop awaits, a bound,
and a breaker (see its docs). The gate hands over the messages that arrived
together; they go to Redis as jobs of up to ``MAX_GROUP`` messages
(``_group``), all queued in one transaction with ``Queue.enqueue_many`` (RQ
docs, Jobs: bulk job enqueueing): every request of the batch is answered once
Redis holds it, or none is.
"""

from __future__ import annotations

from bgref_message.queue import MAX_GROUP, PublishGate

from ._group import prepare_group
from ._queue import make_queue
from ._settings import Settings

__all__ = ["make_gate"]


def make_gate(settings: Settings) -> PublishGate[str]:
    """The web's gate to RQ's queue in Redis."""
    queue, client = make_queue(settings)

    def publish(messages: list[str]) -> None:
        # The gate sends everything that waits, which a burst can make more
        # than max_batch; the worker refuses a group above MAX_GROUP.
        queue.enqueue_many(
            [
                prepare_group(queue, messages[start : start + MAX_GROUP], settings.seconds)
                for start in range(0, len(messages), MAX_GROUP)
            ]
        )

    return PublishGate(
        publish, client.ping, timeout=settings.publish_deadline, max_batch=MAX_GROUP
    )

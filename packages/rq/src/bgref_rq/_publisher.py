"""Publishing from the web: the messages of concurrent requests, one RQ job each, one round trip.

RQ's client is redis-py's blocking one, so every publish goes through
``bgref_message.PublishGate``: one thread that the event loop awaits, a bound,
and a breaker (see its docs). The gate hands over the messages that arrived
together; they go to Redis as one job each in one transaction with
``Queue.enqueue_many`` (RQ docs, Jobs: bulk job enqueueing), all or none.
"""

from __future__ import annotations

from rq import Queue
from rq.queue import EnqueueData

from bgref_message import PublishGate

from ._jobs import FUNC_NAME
from ._queue import RETRY, make_queue
from ._settings import Settings

__all__ = ["make_gate"]

# At most this many jobs go in one transaction: a round trip of a few tens of
# kilobytes, well inside the publish timeout.
MAX_BATCH = 32


def make_gate(settings: Settings) -> PublishGate[str]:
    """The web's gate to RQ's queue in Redis."""
    queue, client = make_queue(settings)

    def publish(messages: list[str]) -> None:
        queue.enqueue_many([_job(queue, settings, message) for message in messages])

    return PublishGate(
        publish, client.ping, timeout=settings.publish_deadline, max_batch=MAX_BATCH
    )


def _job(queue: Queue, settings: Settings, message: str) -> EnqueueData:
    return queue.prepare_data(
        FUNC_NAME,
        (message,),
        retry=RETRY,
        # Killed in its worker after this (RQ's default is 180 s); the worker
        # counts the job abandoned once its worker is silent this long after.
        timeout=settings.seconds,
        # Nothing reads results: the job's hash goes once it has run.
        result_ttl=0,
        # RQ's default description is the call, message included, which it
        # stores and may log: the users' messages stay out of both.
        description="write_message(<1 message>)",
    )

"""Queueing the messages of concurrent requests in one Redis round trip.

Dramatiq queues one message per call (``actor.send``: one ``EVALSHA`` of its
dispatch script), so a group of N messages from the publish gate would be N
round trips in a row from one thread, each with redis-py's Python overhead:
in the smoke comparison, a send-message/baseline ratio of 0.38 against
Celery's one pipeline per group. Here Dramatiq's own ``RedisBroker.enqueue``
runs against a second broker whose client is a redis-py pipeline in a
transaction (``MULTI``/``EXEC``): Dramatiq's dispatch script, given a pipeline,
is queued there instead of sent (redis-py's ``Script`` supports pipelines), and
``execute`` sends the group at once. Every message is Dramatiq's own, built by
``actor.message``; none of its enqueue logic is copied. ``MULTI``/``EXEC``
makes a group all or nothing: a Redis that dies before ``EXEC`` has queued none
of it, so a refusal after a connection error is never written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from ._broker import NAMESPACE

__all__ = ["batch_publisher"]


class _PipelinedBroker(RedisBroker):
    """A ``RedisBroker`` whose commands go into a pipeline, for ``enqueue`` only."""

    def __init__(self, broker: RedisBroker, pipeline: Any) -> None:
        # No middleware: Dramatiq's default middleware has no enqueue hooks, and
        # the web's own broker (with its middleware) declares the actor.
        super().__init__(  # type: ignore[no-untyped-call]
            client=pipeline,
            namespace=NAMESPACE,
            middleware=[],
            heartbeat_timeout=broker.heartbeat_timeout,
            dead_message_ttl=broker.dead_message_ttl,
            maintenance_chance=broker.maintenance_chance,
        )
        self._broker = broker

    def _max_unpack_size(self) -> int:
        # Every dispatch passes Lua's stack size, which Dramatiq asks Redis for
        # once and caches: a pipeline would answer with itself. The web's own
        # broker asks (a round trip in the publishing thread, the first time).
        size: int = self._broker._max_unpack_size()  # type: ignore[no-untyped-call]
        return size


def batch_publisher(
    broker: RedisBroker, actor: dramatiq.Actor[..., None]
) -> Callable[[list[str]], None]:
    """``publish(batch)`` for the gate: one Dramatiq message per item, one round trip per batch.

    For one thread only (the gate's publishing thread): the pipeline is its own.
    """
    pipeline: Any = broker.client.pipeline(transaction=True)
    batcher = _PipelinedBroker(broker, pipeline)

    def publish(batch: list[str]) -> None:
        try:
            for message in batch:
                batcher.enqueue(actor.message(message))
            # The scripts' EXISTS check, then MULTI, the EVALSHAs and EXEC: two
            # round trips whatever the size of the batch.
            pipeline.execute()
        finally:
            # A failed batch leaves nothing queued in the pipeline for the next.
            pipeline.reset()

    return publish

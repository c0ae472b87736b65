"""Queueing concurrent requests' messages as Dramatiq messages of up to 32, in one round trip.

Dramatiq's costs are per Dramatiq message, whatever it carries: the web's
dispatch script, and in the worker a fetch, a decode, the middleware's hooks
and an ack, each script also refreshing the worker's heartbeat (three
``EVALSHA`` and three ``ZADD`` per message). Measured with ``python -m
bgref_compare cpu dramatiq``, one Dramatiq message per HTTP message cost about
1,000 µs of the stack's CPU per request, most of it in the worker. So the
messages that the publish gate hands over together go out as
``write_messages`` messages of up to ``MAX_GROUP``, as ``bgref_celery`` groups
its tasks.

Dramatiq queues one message per call (``actor.send``: one ``EVALSHA`` of its
dispatch script). ``enqueue_together`` runs Dramatiq's own
``RedisBroker.enqueue`` against a second broker whose client is a redis-py
pipeline in a transaction (``MULTI``/``EXEC``): the dispatch script, given a
pipeline, is queued there instead of sent (redis-py's ``Script`` supports
pipelines), and ``execute`` sends them at once. Every message is Dramatiq's
own, built by ``actor.message``; none of its enqueue logic is copied. A
transaction is all or nothing: a Redis that dies before ``EXEC`` has queued
none of it, so a refusal after a connection error is never written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from bgref_message.queue import MAX_GROUP

from ._broker import NAMESPACE

__all__ = ["batch_publisher", "enqueue_together"]


class _PipelinedBroker(RedisBroker):
    """A ``RedisBroker`` whose commands go into a pipeline, for ``enqueue`` only."""

    def __init__(self, broker: RedisBroker, pipeline: Any) -> None:
        # No middleware: Dramatiq's default middleware has no enqueue hooks, and
        # the process's own broker (with its middleware) declares the actors.
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
        # once and caches: a pipeline would answer with itself. The process's
        # own broker asks (a round trip, the first time).
        size: int = self._broker._max_unpack_size()  # type: ignore[no-untyped-call]
        return size


def _enqueuer(broker: RedisBroker) -> Callable[[list[dramatiq.Message[Any]]], None]:
    """``enqueue(messages)``: all of them in one transaction. For one thread only."""
    pipeline: Any = broker.client.pipeline(transaction=True)
    batcher = _PipelinedBroker(broker, pipeline)

    def enqueue(messages: list[dramatiq.Message[Any]]) -> None:
        if len(messages) == 1:
            # One script is atomic by itself: one EVALSHA, one round trip,
            # where a pipeline would check the script with SCRIPT EXISTS first.
            broker.enqueue(messages[0])
            return
        try:
            for message in messages:
                batcher.enqueue(message)
            # The scripts' EXISTS check, then MULTI, the EVALSHAs and EXEC: two
            # round trips whatever the number of messages.
            pipeline.execute()
        finally:
            # A failed transaction leaves nothing queued in the pipeline for the next.
            pipeline.reset()

    return enqueue


def enqueue_together(broker: RedisBroker, messages: list[dramatiq.Message[Any]]) -> None:
    """Queue ``messages`` in one transaction: all of them, or none if this raises."""
    _enqueuer(broker)(messages)


def batch_publisher(
    broker: RedisBroker, actor: dramatiq.Actor[..., None]
) -> Callable[[list[str]], None]:
    """``publish(batch)`` for the gate: ``actor`` messages of up to 32 items, one transaction.

    For one thread only (the gate's publishing thread): the pipeline is its own.
    """
    enqueue = _enqueuer(broker)

    def publish(batch: list[str]) -> None:
        enqueue(
            [
                actor.message(batch[start : start + MAX_GROUP])
                for start in range(0, len(batch), MAX_GROUP)
            ]
        )

    return publish

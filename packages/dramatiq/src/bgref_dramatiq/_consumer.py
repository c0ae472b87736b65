"""A Redis consumer that fetches once an ack frees its prefetch, and dead-letters bad bodies.

Full prefetch: Dramatiq's Redis consumer fetches only while fewer messages than
its prefetch are outstanding; when none is cached and the prefetch is taken
(the worker thread has the message it fetched), it sleeps its *idle* backoff
(``compute_backoff``: 5 to 10 ms, doubling) as if the queue were empty. With
one thread and a prefetch of one, that is every message: a backlog of 14,128
drained in 51 s with the worker thread idle 97% of the time (py-spy: the
consumer thread asleep in ``_RedisConsumer.__next__``, the worker thread in
``Queue.get``), 7.5 ms of sleep per message per process. This consumer instead
waits for the outstanding message's ack or nack (an event that ``ack`` and
``nack`` set, in the worker thread) and fetches at once; an empty queue still
backs off as Dramatiq's does.

Undecodable messages:

Dramatiq's Redis consumer fetches a few messages at a time: their ids move from
the queue to this worker's set of unacknowledged ids, their bodies come back in
a list. A body that does not decode (not JSON, not a message: anything a local
client pushed into Redis) raises ``DecodeError`` out of the consumer; the
worker logs "Consumer encountered an unexpected error", restarts the consumer
after a few seconds, and the bad message and those fetched with it stay
claimed by this live worker, unacknowledged, until it stops: valid messages
stranded and a broker that never looks idle. The fetch returns bodies without
their Redis ids, so this consumer finds the id of the bad body among its own
unacknowledged ones and rejects it (``nack``: Dramatiq's dead-letter queue,
kept for ``dead_message_ttl``), logged once with that id, then goes on with
the messages fetched with it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import _RedisConsumer
from dramatiq.errors import ConnectionClosed, DecodeError

from bgref_message import describe

__all__ = ["DeadLetteringConsumer"]

logger = logging.getLogger(__name__)


class DeadLetteringConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer; an undecodable message is dead-lettered and logged once."""

    broker: Any
    queue_name: str
    prefetch: int
    timeout: int
    message_cache: list[bytes]

    def __init__(self, broker: Any, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)  # type: ignore[no-untyped-call]
        # Set by ack and nack (worker threads): a slot of the prefetch is free.
        self._settled = threading.Event()

    def ack(self, message: MessageProxy) -> None:
        try:
            super().ack(message)  # type: ignore[no-untyped-call]
        finally:
            self._settled.set()

    def nack(self, message: MessageProxy) -> None:
        try:
            super().nack(message)  # type: ignore[no-untyped-call]
        finally:
            self._settled.set()

    def _full(self) -> bool:
        # Dramatiq's own test for fetching, in ``_RedisConsumer.__next__``.
        outstanding: int = self.outstanding_message_count
        return not self.message_cache and outstanding >= self.prefetch

    def __next__(self) -> MessageProxy | None:
        # Cleared before the test: an ack between the test and the wait sets it again.
        self._settled.clear()
        if self._full():
            # At most the idle timeout, so that the worker's consumer thread
            # still looks at its delay queue and its stop flag as often as before.
            self._settled.wait(self.timeout / 1000)
            if self._full():
                return None
        while True:
            try:
                # Dramatiq's Redis consumer is untyped.
                message: MessageProxy | None = super().__next__()  # type: ignore[no-untyped-call]
            except DecodeError as error:
                # The body is out of the prefetched list already; the rest wait there.
                try:
                    self._dead_letter(error)
                except redis.ConnectionError as lost:
                    raise ConnectionClosed(lost) from None  # type: ignore[no-untyped-call]
            else:
                return message

    def _dead_letter(self, error: DecodeError) -> None:
        broker = self.broker
        client = broker.client
        # The keys of Dramatiq's dispatch script (dramatiq/brokers/redis/dispatch.lua).
        unacked = f"{broker.namespace}:__acks__.{broker.broker_id}.{self.queue_name}"
        bodies = f"{broker.namespace}:{self.queue_name}.msgs"
        ids = sorted(client.smembers(unacked))
        found = [
            redis_id
            for redis_id, body in zip(ids, client.hmget(bodies, ids) if ids else [], strict=True)
            if body == error.data
        ]
        reason = describe(error.error)
        for redis_id in found:
            name = redis_id.decode(errors="replace")
            broker.do_nack(self.queue_name, name)
            logger.warning("Refused message %s: not a Dramatiq message (%s)", name, reason)
        if not found:
            logger.warning(
                "Refused a message no longer in Redis: not a Dramatiq message (%s)", reason
            )

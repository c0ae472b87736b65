"""A Redis consumer that fetches once an ack frees its prefetch, takes back what a lost fetch
claimed, and dead-letters bad bodies.

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

A fetch whose answer was lost:

Dramatiq's fetch is one script: it moves ids from the queue to this worker's
set of unacknowledged ids and returns their bodies. If Redis dies after running
it and before its answer arrives (with an append-only file fsynced on every
write, the window is that fsync), or a timed-out fetch runs once a frozen Redis
thaws, the ids sit in the set of a worker that never received them; redis-py
then replays the fetch on a new connection (three retries by default), so the
worker need not even see an error. Dramatiq puts a set back in the queue only
once its worker falls silent for the heartbeat timeout, and a live worker never
does: the messages wait for the worker's restart. Seen in CI as one message
acknowledged and never written after Redis was killed mid-burst
(``test_a_killed_broker_gets_503s_then_recovers_and_loses_nothing``,
2026-12-02); by hand, ids placed in the sets of four live workers were still
unwritten 25 s later (``packages/dramatiq/tests/test_lost_fetch.py``). So
between fetches, at most once a second, the consumer compares its worker's set
for its queue with the ids held (``Claims``) and puts the others back with
Dramatiq's own ``requeue``, which skips an id that an ack removed meanwhile.
Held are the messages handed to the worker's threads, across consumers (Dramatiq
replaces a consumer after a connection error while its threads still work), and
the delayed ones this consumer handed to its thread's delay queue: Dramatiq
empties that queue on a connection error without putting them back (Dramatiq
#527), so a new consumer takes them back too. redis-py's ``TimeoutError`` is
not a ``ConnectionError``: Dramatiq treats it as an unexpected error (Dramatiq
#894), so this consumer reports it as a lost connection, like the other.

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
import time
from collections.abc import Iterable
from typing import Any

import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import _RedisConsumer
from dramatiq.errors import ConnectionClosed, DecodeError

from bgref_message.queue import describe

from ._claims import Claims

__all__ = ["DeadLetteringConsumer"]

logger = logging.getLogger(__name__)

# How often, at most, a consumer looks for messages claimed for its worker that
# nothing here holds: a set member read, with Dramatiq's maintenance as often.
TAKE_BACK_INTERVAL = 1.0


class DeadLetteringConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer: fetches once its prefetch frees, takes back what it was
    never handed, dead-letters an undecodable message (logged once)."""

    broker: Any
    queue_name: str
    prefetch: int
    timeout: int
    message_cache: list[bytes]

    def __init__(self, broker: Any, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)  # type: ignore[no-untyped-call]
        # Set by ack and nack (worker threads): a slot of the prefetch is free.
        self._settled = threading.Event()
        self._claims: Claims = broker.claims(queue_name)
        # Delayed messages live in the consumer thread's memory only while this
        # consumer does: held by it alone.
        self._delayed = Claims()
        self._taken_back_at = float("-inf")

    def ack(self, message: MessageProxy) -> None:
        try:
            super().ack(message)  # type: ignore[no-untyped-call]
        except redis.TimeoutError as error:
            raise ConnectionClosed(error) from None  # type: ignore[no-untyped-call]
        else:
            self._release(_redis_id(message))
        finally:
            self._settled.set()

    def nack(self, message: MessageProxy) -> None:
        try:
            super().nack(message)  # type: ignore[no-untyped-call]
        except redis.TimeoutError as error:
            raise ConnectionClosed(error) from None  # type: ignore[no-untyped-call]
        else:
            self._release(_redis_id(message))
        finally:
            self._settled.set()

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        # Often a generator (Dramatiq's delay queue, drained): read once.
        held = list(messages)
        super().requeue(held)  # type: ignore[no-untyped-call]
        self._release(*(_redis_id(message) for message in held))

    def _release(self, *redis_ids: str) -> None:
        self._claims.release(*redis_ids)
        self._delayed.release(*redis_ids)

    def _full(self) -> bool:
        # Dramatiq's own test for fetching, in ``_RedisConsumer.__next__``.
        outstanding: int = self.outstanding_message_count
        return not self.message_cache and outstanding >= self.prefetch

    def __next__(self) -> MessageProxy | None:
        now = time.monotonic()
        # Between fetches only: a fetched message waiting in the cache is held by no one yet.
        if not self.message_cache and now - self._taken_back_at >= TAKE_BACK_INTERVAL:
            self._take_back()
            self._taken_back_at = now
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
            except redis.TimeoutError as error:
                raise ConnectionClosed(error) from None  # type: ignore[no-untyped-call]
            except DecodeError as error:
                # The body is out of the prefetched list already; the rest wait there.
                try:
                    self._dead_letter(error)
                except redis.ConnectionError as lost:
                    raise ConnectionClosed(lost) from None  # type: ignore[no-untyped-call]
            else:
                if message is not None:
                    # Dramatiq's worker keeps a message with an eta in its delay queue.
                    delayed = message.options.get("eta") is not None
                    (self._delayed if delayed else self._claims).hold(_redis_id(message))
                return message

    def _take_back(self) -> None:
        """Put back the ids in this worker's set for the queue that nothing here holds."""
        try:
            claimed = self.broker.client.smembers(self._unacked_key())
            unheld = sorted(
                self._delayed.unheld(self._claims.unheld({id_.decode() for id_ in claimed}))
            )
            if unheld:
                self.broker.do_requeue(self.queue_name, *unheld)
        except (redis.ConnectionError, redis.TimeoutError) as lost:
            raise ConnectionClosed(lost) from None  # type: ignore[no-untyped-call]
        if unheld:
            logger.warning(
                "Put back %d message(s) claimed for this worker by a fetch it never received: %s",
                len(unheld),
                ", ".join(unheld),
            )

    def _unacked_key(self) -> str:
        # The key of Dramatiq's dispatch script (dramatiq/brokers/redis/dispatch.lua).
        broker = self.broker
        return f"{broker.namespace}:__acks__.{broker.broker_id}.{self.queue_name}"

    def _dead_letter(self, error: DecodeError) -> None:
        broker = self.broker
        client = broker.client
        unacked = self._unacked_key()
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


def _redis_id(message: MessageProxy) -> str:
    # Set by Dramatiq's ``RedisBroker.enqueue`` on every message it queues.
    redis_id: str = message.options["redis_message_id"]
    return redis_id

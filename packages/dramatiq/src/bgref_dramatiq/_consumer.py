"""A Redis consumer that dead-letters a message it cannot decode, instead of stalling.

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

    def __next__(self) -> MessageProxy | None:
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

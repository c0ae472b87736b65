"""The Dramatiq broker: Redis, strict JSON, Dramatiq's own middleware.

Dramatiq's Redis broker acknowledges a message after the actor returns: until
then its id sits in a per-worker set in Redis (``__acks__``). Each command a
worker sends refreshes its heartbeat; the queue maintenance, run by a random
fraction of commands (``maintenance_chance`` out of a million), puts the
unacknowledged messages of workers silent for ``heartbeat_timeout`` back in the
queue. https://dramatiq.io/reference.html#dramatiq.brokers.redis.RedisBroker
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from dramatiq.middleware import CurrentMessage, Middleware, default_middleware
from redis.backoff import NoBackoff
from redis.retry import Retry

from ._claims import Claims
from ._consumer import DeadLetteringConsumer
from ._encoder import StrictJSONEncoder
from ._settings import Settings

__all__ = ["ACTOR_NAME", "BATCH_ACTOR_NAME", "NAMESPACE", "QUEUE", "make_broker"]

logger = logging.getLogger(__name__)

# An actor's name travels inside every queued message: spelled out, so that
# moving the code does not strand queued work. The worker runs these two only:
# Dramatiq dead-letters a message for any other name.
BATCH_ACTOR_NAME = "bgref_dramatiq.write_messages"
ACTOR_NAME = "bgref_dramatiq.write_message"
QUEUE = "default"
# Dramatiq's default: its keys in Redis are "dramatiq:<queue>", "dramatiq:<queue>.msgs"...
NAMESPACE = "dramatiq"

# Dramatiq's default is 1 command in 1,000: a dead worker's messages then wait
# for the heartbeat timeout plus some 1,000 commands, many minutes on an idle
# queue. One in ten costs a ZRANGEBYSCORE on a small sorted set inside the
# script that every command runs anyway, and brings them back within seconds.
MAINTENANCE_CHANCE = MAINTENANCE_SCALE // 10
# And by chance alone, a restarted worker on an idle queue (its consumers
# polling about once a second each) would put a dead process's messages back
# anywhere from seconds to a minute after the heartbeat timeout: each consumer
# thread (one per queue) also runs it with a fetch at least this often.
MAINTENANCE_INTERVAL = 1.0


class _Broker(RedisBroker):
    """Dramatiq's Redis broker: our consumer, what it holds, and maintenance every second."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]
        # Per thread: each consumer thread fetches from one queue, and the
        # maintenance of a command covers that command's queue only.
        self._maintained = threading.local()
        self._claims: dict[str, Claims] = {}
        self._claims_lock = threading.Lock()

    def claims(self, queue_name: str) -> Claims:
        """What this process's threads hold of ``queue_name``, across its consumers."""
        with self._claims_lock:
            return self._claims.setdefault(queue_name, Claims())

    @property
    def consumer_class(self) -> type[DeadLetteringConsumer]:
        return DeadLetteringConsumer

    def _should_do_maintenance(self, command: str) -> int:
        if command == "fetch":
            now = time.monotonic()
            if now - getattr(self._maintained, "at", float("-inf")) >= MAINTENANCE_INTERVAL:
                self._maintained.at = now
                return 1
        chance: int = super()._should_do_maintenance(command)
        return chance


class _DeadLetterLog(Middleware):
    """Logs each message Dramatiq dead-letters, by id: an unknown actor's is not otherwise."""

    def before_nack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        del broker
        logger.warning(
            "Dead-lettered message %s (actor %r)", message.message_id, message.actor_name
        )


def make_broker(settings: Settings, *, web: bool) -> RedisBroker:
    """The broker for the web (``web=True``: short timeouts, no retries) or the worker."""
    # A message from Redis is data, never code: JSON, and strict about its shape.
    dramatiq.set_encoder(StrictJSONEncoder())
    timeout = settings.publish_timeout if web else settings.worker_timeout
    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": settings.connect_timeout,
        "socket_keepalive": True,
        "health_check_interval": 30,
    }
    if web:
        # redis-py retries a failed command three times with backoff by default:
        # a frozen Redis would hold the request four timeouts long, and a replay
        # after a timeout could queue the message twice.
        options["retry"] = Retry(NoBackoff(), 0)
    client = redis.Redis.from_url(settings.redis_url, **options)
    broker = _Broker(
        client=client,
        namespace=NAMESPACE,
        heartbeat_timeout=int(settings.heartbeat_timeout * 1000),
        maintenance_chance=MAINTENANCE_CHANCE,
        # Dramatiq's defaults (age and time limits, retries, ...), the current
        # message, so that the actor can name the message it refuses, and the
        # log of dead letters.
        middleware=[m() for m in default_middleware] + [CurrentMessage(), _DeadLetterLog()],
    )
    dramatiq.set_broker(broker)
    return broker

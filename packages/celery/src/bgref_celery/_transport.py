"""kombu's Redis transport: no message lost in transit, no worker stopped by a lost connection.

kombu takes a message with ``BRPOP`` and records it in Redis's ``unacked``
hash only once the reply has been read. A message popped for a worker that
dies (or a Redis that dies) before that is in neither place: lost, although
the web acknowledged it (celery issues 4354 and 7950). Here a worker that
consumes a single queue takes each message with ``BLMOVE`` into a processing
list of its own, and records it in ``unacked`` and removes it from that list
in one transaction: a message is always somewhere in Redis. A list that nobody
has touched for the visibility timeout belonged to a channel that died on the
way, and any worker's sweep moves it back to its queue.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from queue import Empty
from typing import Any

from kombu.transport import redis, virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads
from redis.exceptions import ResponseError

__all__ = ["PROCESSING_PREFIX", "TRANSPORT", "Transport"]

logger = logging.getLogger(__name__)

# Where Celery finds it (``broker_transport``): an import path, not a URL scheme.
TRANSPORT = f"{__name__}:Transport"

# Processing lists are named PROCESSING_PREFIX + channel id + ":" + queue key.
PROCESSING_PREFIX = "bgref.processing:"

# Moves a processing list back to the right end of its queue (taken next), if
# nobody has touched it for ARGV[1] seconds. OBJECT IDLETIME does not touch it.
_RESTORE_ORPHANED = """
local idle = redis.pcall('OBJECT', 'IDLETIME', KEYS[1])
if type(idle) ~= 'number' or idle < tonumber(ARGV[1]) then
  return 0
end
local moved = 0
while redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'RIGHT') do
  moved = moved + 1
end
return moved
"""


class _QoS(redis.QoS):
    channel: _Channel

    def append(self, message: Any, delivery_tag: Any) -> None:
        """Record a message in ``unacked`` and take it off its processing list, at once."""
        transit, self.channel.in_transit = self.channel.in_transit, None
        if transit is None:
            super().append(message, delivery_tag)  # type: ignore[no-untyped-call]
            return
        processing, item = transit
        delivery = message.delivery_info
        record = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])  # type: ignore[no-untyped-call]
        # kombu's record of the delivery plus the LREM, in one MULTI/EXEC.
        with self.pipe_or_acquire() as pipe:
            pipe.zadd(self.unacked_index_key, {delivery_tag: time.time()})
            pipe.hset(self.unacked_key, delivery_tag, record)
            pipe.lrem(processing, 1, item)
            pipe.execute()
        # kombu's in-memory bookkeeping, without redis.QoS.append's record.
        virtual.QoS.append(self, message, delivery_tag)  # type: ignore[no-untyped-call]

    def restore_visible(self, start: int = 0, num: int = 10, interval: int = 10) -> None:
        """kombu's sweep of expired ``unacked`` messages, then of orphaned processing lists."""
        super().restore_visible(start, num, interval)  # type: ignore[no-untyped-call]
        if (self._vrestore_count - 1) % (interval or 1):
            return  # throttled, as kombu's sweep just was
        # IDLETIME counts whole seconds; a live channel empties its list within milliseconds.
        idle = max(1, math.ceil(self.visibility_timeout))
        own = self.channel.processing_prefix
        with self.channel.conn_or_acquire() as client:
            for key in client.scan_iter(match=f"{PROCESSING_PREFIX}*", count=100):
                name = bytes_to_str(key)  # type: ignore[no-untyped-call]
                if name.startswith(own):
                    continue
                queue = name[len(PROCESSING_PREFIX) :].split(":", 1)[1]
                moved = client.eval(_RESTORE_ORPHANED, 2, name, queue, idle)
                if moved:
                    logger.warning(
                        "Put back %d messages taken by a consumer that died before"
                        " recording them (%s)",
                        moved,
                        name,
                    )

    def restore_unacked(self, client: Any = None) -> None:
        """Put the messages this channel holds back in the queue, if Redis can be reached."""
        try:
            super().restore_unacked(client)  # type: ignore[no-untyped-call]
        except Exception:
            # When the connection to Redis is lost, kombu closes the channel and
            # tries this with a connection that is already gone: an
            # AttributeError ('NoneType' object has no attribute 'hostname',
            # kombu issue 582) that would end the worker, or a connection error.
            # The messages are safe: Redis keeps them in its unacked hash, and a
            # worker's sweep hands them out again after the visibility timeout.
            logger.warning(
                "Could not put back %d unacknowledged messages now; Redis hands them"
                " out again after the visibility timeout",
                len(self._delivered),
                exc_info=True,
            )
            # restore_unacked_once expects them gone once it has run.
            self._delivered.clear()

    def ack(self, delivery_tag: Any) -> None:
        """Acknowledge a message, unless its channel has already lost its connection."""
        if self._gone(delivery_tag):
            return
        super().ack(delivery_tag)  # type: ignore[no-untyped-call]

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        """Reject a message, unless its channel has already lost its connection."""
        if self._gone(delivery_tag):
            return
        super().reject(delivery_tag, requeue=requeue)  # type: ignore[no-untyped-call]

    def _gone(self, delivery_tag: Any) -> bool:
        # A task that finishes after the connection was lost acknowledges on its
        # old, closed channel, whose transport kombu has dropped: an
        # AttributeError ('NoneType' object has no attribute 'client') that stops
        # the worker's consumer for good. The message stays in Redis's unacked
        # hash and runs again after the visibility timeout: at least once.
        if self.channel.connection is not None:
            return False
        logger.warning(
            "Could not acknowledge message %s: its connection to Redis was lost;"
            " Redis hands it out again after the visibility timeout",
            delivery_tag,
        )
        self._delivered.pop(delivery_tag, None)
        return True


class _Channel(redis.Channel):
    QoS = _QoS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The client for commands outside the consumer's own (see _create_client);
        # set first: kombu's __init__ may send a command already.
        self._sync_client: Any = None
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self.processing_prefix = f"{PROCESSING_PREFIX}{uuid.uuid4().hex}:"
        # The queue key of the BLMOVE in flight, and the message being delivered.
        self._moving_from: str | None = None
        self.in_transit: tuple[str, bytes] | None = None
        # Whether the server has BLMOVE; asked on the first consume (None: not yet).
        self._blmove: bool | None = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        """One ``redis.Redis`` per connection pool, instead of a new one per command.

        kombu builds a client for every command it sends outside the consumer's
        own (``conn_or_acquire``: each publish batch, each acknowledgement, each
        record in ``unacked``), and a ``redis.Redis`` copies redis-py's table of
        some 170 reply callbacks when it is built: about 60 µs of CPU each time,
        two or three times per task in the worker, once per publish in the web.
        A client holds no connection of its own (its pool does), so one per pool
        serves every command; a new pool (after a lost connection, or a fork)
        gets a new client.
        """
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[no-untyped-call]
        cached = self._sync_client
        if cached is None or cached.connection_pool is not self.pool:
            cached = self._sync_client = super()._create_client()  # type: ignore[no-untyped-call]
        return cached

    def _brpop_start(self, timeout: float | None = None) -> None:
        queues = self._queue_cycle.consume(len(self.active_queues))
        pri_key = self._q_for_pri
        keys = [pri_key(q, pri) for pri in self.priority_steps for q in queues]  # type: ignore[no-untyped-call]
        if self._blmove is None:
            self._blmove = _has_blmove(self.client)
        if not self._blmove or len(keys) != 1 or self.global_keyprefix:
            # BLMOVE takes one source key: several queues or priorities stay with BRPOP.
            super()._brpop_start(timeout)  # type: ignore[no-untyped-call]
            return
        (source,) = keys
        if timeout is None:
            timeout = self.brpop_timeout
        self._moving_from = source
        self._in_poll = self.client.connection
        self._brpop_sent_at = time.monotonic()  # type: ignore[assignment]
        destination = self.processing_prefix + source
        command = ("BLMOVE", source, destination, "RIGHT", "LEFT", timeout or 0)
        self.client.connection.send_command(*command)

    def _brpop_read(self, **options: Any) -> bool:
        source, self._moving_from = self._moving_from, None
        if source is None:
            return bool(super()._brpop_read(**options))  # type: ignore[no-untyped-call]
        try:
            try:
                item = self.client.parse_response(self.client.connection, "BLMOVE", **options)
            except self.connection_errors:
                # As kombu does: the next round reconnects.
                self.client.connection.disconnect()
                raise
            if not item:
                raise Empty()
            self._deliver_moved(source, item)
            return True
        finally:
            self._in_poll = None  # type: ignore[assignment]
            self._flush_brpop_reauth()  # type: ignore[no-untyped-call]

    def _deliver_moved(self, source: str, item: bytes) -> None:
        processing = self.processing_prefix + source
        try:
            payload = loads(bytes_to_str(item))  # type: ignore[no-untyped-call]
        except Exception:
            # Not kombu's envelope (anyone who can reach Redis can push anything).
            # kombu raises, and Celery calls that an "Unrecoverable error" and
            # stops the worker. Dropped and logged instead: kept, it would come
            # back forever; raised, one bad entry would stop every worker in turn.
            self.client.lrem(processing, 1, item)
            logger.error(
                "Dropped an entry of %s that is not a kombu message: %r", source, item[:200]
            )
            raise Empty() from None
        queue = source.rsplit(self.sep, 1)[0]
        self._queue_cycle.rotate(queue)
        self.in_transit = (processing, item)
        try:
            self.connection._deliver(payload, queue)
        finally:
            leftover, self.in_transit = self.in_transit, None
        if leftover is not None:
            # Delivered without a record in unacked (no_ack, or requeued as
            # undeliverable): it is not this channel's to hold any more.
            self.client.lrem(processing, 1, item)


def _has_blmove(client: Any) -> bool:
    """Whether the server has BLMOVE and LMOVE (Redis 6.2 and later)."""
    try:
        version = str(client.info("server").get("redis_version", ""))
    except ResponseError:  # INFO disabled or renamed by the provider
        version = ""
    parts = [int(part) for part in version.split(".")[:2] if part.isdigit()]
    if len(parts) == 2 and (parts[0], parts[1]) >= (6, 2):
        return True
    logger.warning(
        "Redis %s: no BLMOVE (Redis 6.2), so kombu's BRPOP takes the messages;"
        " one in transit can be lost if a worker or Redis dies",
        version or "of unknown version",
    )
    return False


class Transport(redis.Transport):
    """The Redis transport with reliable fetching and a cleanup that survives a lost connection."""

    Channel = _Channel

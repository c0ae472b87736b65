"""taskiq-redis's Streams broker, with redelivery that does not wait for new work, and a boundary.

``RedisStreamBroker`` (taskiq-redis 1.2) reads with ``XREADGROUP`` into the
consumer group's pending entries list (PEL), acknowledges with ``XACK``, and
takes over what another consumer left unacknowledged for ``idle_timeout``
with ``XAUTOCLAIM``. Three things in its ``listen`` are changed here:

- It claims idle messages only after a read that returned new messages
  (``if not fetched: continue`` skips the claim): a worker restarted after a
  crash, with no new work arriving, never takes over what the dead one held.
  Here the claim runs on its own clock, every ``claim_interval``, whether or
  not new work came.
- ``XACK`` leaves the entry in the stream, so the stream grows with every
  message ever sent, unless ``maxlen`` trims it, and trimming drops the oldest
  entries whether they were handled or not (queued work, if the workers are
  behind). Here an acknowledgement is ``XACK`` and ``XDEL`` in one
  ``MULTI``: the stream holds exactly the work not yet acknowledged.
- A lost connection ends its generator (and the worker process); here the
  loop logs it, waits, and reads again on a new connection. A group lost with
  its data (a Redis restarted empty) is declared again.

And a worker process reads under its slot's name (``_consumer_name``), and
first reads that name's pending entries: the process that taskiq starts in
place of one that died takes back the dead one's work at once, not after the
idle timeout.

And every entry passes the boundary (``_boundary.read_job``) before taskiq
sees it: what fails is logged once and deleted, never run, never retried.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import os
import socket
import time
from collections.abc import AsyncGenerator
from functools import partial
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage
from taskiq.message import BrokerMessage, TaskiqMessage
from taskiq_redis import RedisStreamBroker

from ._boundary import BadPayload, read_job
from ._settings import Settings

__all__ = ["GROUP", "STREAM", "StreamBroker"]

logger = logging.getLogger(__name__)

# The stream the web adds to and the consumer group the workers read as.
STREAM = "bgref-taskiq"
GROUP = "bgref-taskiq-workers"
# Entries one read or one claim takes at most (each a group of up to 32
# messages). Few: what a worker has taken but not started ages towards the idle
# timeout, and another worker may then take it over and run it a second time.
_BATCH = 10
# How long one XREADGROUP blocks waiting for new work, in milliseconds.
_BLOCK_MS = 1000
# How long to wait before reading again after the connection was lost.
_RECONNECT_DELAY = 1.0
_CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


class StreamBroker(RedisStreamBroker):
    """The Redis Streams broker of both the web (``kick``) and the workers (``listen``)."""

    def __init__(self, settings: Settings, *, worker: bool) -> None:
        super().__init__(
            settings.redis_url,
            queue_name=STREAM,
            consumer_group_name=GROUP,
            # A group created after the web added work (the worker started
            # second) still reads it: "$" would start after the last entry.
            consumer_id="0",
            xread_block=_BLOCK_MS,
            xread_count=_BATCH,
            idle_timeout=math.ceil(settings.idle_timeout * 1000),
            unacknowledged_batch_size=_BATCH,
            socket_timeout=settings.worker_timeout if worker else settings.publish_timeout,
            socket_connect_timeout=settings.connect_timeout,
            # One more try, on a new connection, when Redis closed the old one
            # (it restarted, say: every pooled connection is then dead). None
            # after a timeout: a command that timed out may still be carried
            # out, so sending it again could queue a message twice, and a
            # request would wait out the timeout once per attempt.
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
        self.claim_interval = settings.claim_interval
        # One client for kicks, acknowledgements and pings: a client takes a
        # connection from the pool per command, and making one per call (as
        # upstream does) cost more CPU than the XADD itself.
        self.client = Redis(connection_pool=self.connection_pool)

    async def startup(self) -> None:
        """Declare the consumer group; a worker waits for Redis, the web does not."""
        await super(RedisStreamBroker, self).startup()
        while True:
            try:
                await self._declare_consumer_group()
            except _CONNECTION_ERRORS as error:
                if not self.is_worker_process:
                    raise
                logger.warning("Redis is not answering (%s); trying again", _describe(error))
                await asyncio.sleep(_RECONNECT_DELAY)
            else:
                break
        if self.is_worker_process:
            self.consumer_name = _consumer_name()
            # The ready line that the registry's ready marker waits for.
            logger.info(
                "Worker process %d consuming %s as %s", os.getpid(), STREAM, self.consumer_name
            )

    async def kick(self, message: BrokerMessage) -> None:
        """Add the message to the stream (upstream's ``XADD``, on the broker's one client)."""
        await self.client.xadd(STREAM, {b"data": message.message})

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Yield what this slot's last process left, new messages, and idle ones of others."""
        claimed_at = -math.inf
        outage = False
        # Where this consumer's pending entries are read from; None once all are.
        history: Any = "0-0"
        while True:
            try:
                async with Redis(connection_pool=self.connection_pool) as client:
                    while True:
                        if history is not None:
                            entries = await self._read_history(client, history)
                            history = entries[-1][0] if entries else None
                        elif time.monotonic() - claimed_at >= self.claim_interval:
                            claimed_at = time.monotonic()
                            entries = await self._claim(client)
                            if len(entries) == _BATCH:
                                claimed_at = -math.inf  # more are waiting: claim again next round
                        else:
                            entries = await self._read(client)
                        if outage:
                            logger.warning("Redis is answering again")
                            outage = False
                        for entry_id, fields in entries:
                            if not fields:
                                continue
                            message = await self._admit(client, entry_id, fields)
                            if message is not None:
                                yield message
            except _CONNECTION_ERRORS as error:
                if not outage:
                    logger.warning("Lost the connection to Redis (%s); reconnecting", error)
                    outage = True
                await asyncio.sleep(_RECONNECT_DELAY)
            except ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                # Redis restarted without its data, or the stream was deleted.
                logger.warning("The consumer group is gone (%s); declaring it again", error)
                await self._declare_consumer_group()

    async def _read(self, client: Redis) -> list[tuple[Any, Any]]:
        # [[stream, [(id, fields), ...]]], or None when the block ran out.
        fetched: Any = await client.xreadgroup(
            GROUP, self.consumer_name, {STREAM: ">"}, count=_BATCH, block=_BLOCK_MS
        )
        return [entry for _, entries in fetched or () for entry in entries]

    async def _read_history(self, client: Redis, after: Any) -> list[tuple[Any, Any]]:
        # A consumer's name is its worker slot (_consumer_name): the process
        # that taskiq starts in place of one that died reads under the same
        # name, and an id instead of ">" reads that name's pending entries,
        # the dead process's, at once rather than after the idle timeout
        # (Redis's streams guide: reading with an id returns "our history of
        # pending messages", how a consumer recovers after a restart). Never
        # again once caught up:
        # then they are this process's own, being run.
        fetched: Any = await client.xreadgroup(
            GROUP, self.consumer_name, {STREAM: after}, count=_BATCH
        )
        entries = [entry for _, entries in fetched or () for entry in entries]
        live = [(entry_id, fields) for entry_id, fields in entries if fields]
        for entry_id, fields in entries:
            if not fields:  # deleted from the stream meanwhile: nothing to run
                await _forget(client, entry_id)
        if live:
            logger.warning(
                "Took back %d entries that this worker's previous process left unacknowledged",
                len(live),
            )
        return entries

    async def _claim(self, client: Redis) -> list[tuple[Any, Any]]:
        # Takes over entries that another consumer (or this one, in an earlier
        # life) has held unacknowledged for the idle timeout. Entries deleted
        # meanwhile are dropped from the PEL by Redis itself (7.0 and later).
        # [next start id, [(id, fields), ...], [deleted ids] (Redis 7)].
        reply: Any = await client.xautoclaim(
            STREAM,
            GROUP,
            self.consumer_name,
            min_idle_time=self.idle_timeout,
            start_id="0-0",
            count=_BATCH,
        )
        claimed = [(entry_id, fields) for entry_id, fields in reply[1] if fields is not None]
        if claimed:
            logger.warning(
                "Took over %d messages left unacknowledged for %g s by a consumer"
                " (one that died, or a failing write)",
                len(claimed),
                self.idle_timeout / 1000,
            )
        return claimed

    async def _admit(self, client: Redis, entry_id: Any, fields: Any) -> AckableMessage | None:
        """The entry as taskiq's message, rebuilt from the checked job; None if it was dropped."""
        try:
            job = read_job(fields)
        except BadPayload as error:
            logger.error(
                "Dropped stream entry %s (task id %s), not run: %s",
                _text(entry_id),
                error.task_id,
                error,
            )
            await _forget(client, entry_id)
            return None
        # Rebuilt from the checked fields only: nothing else from the wire
        # (labels such as ack_type or timeout) reaches taskiq.
        message = TaskiqMessage(
            task_id=job.task_id, task_name=job.task_name, labels={}, args=job.args, kwargs={}
        )
        return AckableMessage(
            data=self.formatter.dumps(message).message, ack=partial(self._ack, entry_id)
        )

    async def _ack(self, entry_id: Any) -> None:
        await _forget(self.client, entry_id)


async def _forget(client: Redis, entry_id: Any) -> None:
    """Acknowledge an entry and delete it from the stream, in one transaction."""
    async with client.pipeline(transaction=True) as pipe:
        pipe.xack(STREAM, GROUP, entry_id)
        pipe.xdel(STREAM, entry_id)
        await pipe.execute()


def _consumer_name() -> str:
    """This worker slot's consumer name: host, main process and taskiq's process name.

    The same for the process that taskiq starts in place of one that died
    (``worker-0`` again, under the same main process), unique among live ones.
    """
    return f"{socket.gethostname()}:{os.getppid()}:{multiprocessing.current_process().name}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"

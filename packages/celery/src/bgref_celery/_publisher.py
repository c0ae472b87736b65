"""Publishing tasks from the event loop, in batches, and knowing when the broker is away."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._app import TASK_NAME

__all__ = ["BrokerUnavailable", "Publisher"]

logger = logging.getLogger(__name__)

# How often an unavailable broker is probed until it answers again.
_PROBE_INTERVAL = 0.5


class BrokerUnavailable(Exception):
    """Redis did not take the message (or is known to be away); nothing was queued."""


class Publisher:
    """Sends ``write_message`` tasks through one persistent producer.

    Requests that arrive together are published together: each request adds its
    message and awaits a future, and one callback on the next loop iteration
    publishes them all in a single Redis pipeline (kombu's ``Producer.batch``).
    The pipeline runs on the event loop, so while Redis answers nothing waits for
    a thread; a socket timeout bounds it when Redis stops answering. After a
    failure every request is refused at once until a probe, run in a thread,
    finds the broker again.
    """

    def __init__(self, celery_app: Any, transport_options: dict[str, Any]) -> None:
        self._app = celery_app
        # Overrides of the app's broker_transport_options (shorter timeouts).
        self._transport_options = transport_options
        self._connection: Any = None
        self._producer: Any = None
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._down: str | None = None
        self._recovery: asyncio.Task[None] | None = None
        self._probe_future: asyncio.Future[str | None] | None = None
        # Probes block on their own connection, one at a time, off the event loop.
        self._probe_executor = ThreadPoolExecutor(1, thread_name_prefix="broker-probe")
        self._probe_connection: Any = None

    async def publish(self, message: str) -> None:
        """Queue the task for ``message``; raise ``BrokerUnavailable`` if Redis did not take it."""
        if self._down is not None:
            raise BrokerUnavailable(self._down)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((message, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        await future

    async def check(self) -> str | None:
        """Probe the broker now; return why it is unavailable, or None if it answers."""
        reason = await self._probe()
        if reason is None:
            self._mark_up()
        else:
            self._mark_down(reason)
        return reason

    def close(self) -> None:
        """Release the producer and the probe connection."""
        if self._recovery is not None:
            self._recovery.cancel()
        self._reset_producer()
        self._probe_executor.submit(self._close_probe_connection)
        self._probe_executor.shutdown(wait=False)

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if self._down is not None:
            _fail(batch, BrokerUnavailable(self._down))
            return
        started = time.monotonic()
        try:
            self._send(message for message, _ in batch)
        except Exception as error:
            reason = f"Redis did not take the message: {_describe(error)}"
            logger.warning(
                "%s (%d messages refused after %.2f s)",
                reason,
                len(batch),
                time.monotonic() - started,
            )
            self._reset_producer()
            self._mark_down(reason)
            _fail(batch, BrokerUnavailable(reason))
        else:
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    def _send(self, messages: Any) -> None:
        producer = self._get_producer()
        send_task = self._app.send_task
        with producer.batch():
            for message in messages:
                send_task(TASK_NAME, (message,), producer=producer)

    def _get_producer(self) -> Any:
        if self._producer is None:
            # Kept for the life of the process: the channel and its Redis
            # connection are set up once, not per request. It connects lazily.
            self._connection = self._connect()
            self._producer = self._connection.Producer()
        return self._producer

    def _connect(self) -> Any:
        return self._app.connection_for_write(transport_options=self._transport_options)

    def _reset_producer(self) -> None:
        # After a failure the next publish starts from a new connection; collect()
        # drops the old one without talking to Redis, which may not answer.
        if self._connection is not None:
            self._connection.collect()
        self._connection = self._producer = None

    def _mark_down(self, reason: str) -> None:
        if self._down is None:
            logger.error("Broker unavailable: %s", reason)
        self._down = reason
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.get_running_loop().create_task(self._recover())

    def _mark_up(self) -> None:
        if self._down is not None:
            logger.warning("Broker available again")
        self._down = None

    async def _recover(self) -> None:
        while self._down is not None:
            await asyncio.sleep(_PROBE_INTERVAL)
            if await self._probe() is None:
                self._mark_up()

    async def _probe(self) -> str | None:
        # Concurrent callers share one probe, so a frozen Redis ties up one thread.
        if self._probe_future is None or self._probe_future.done():
            loop = asyncio.get_running_loop()
            self._probe_future = asyncio.ensure_future(
                loop.run_in_executor(self._probe_executor, self._ping)
            )
        return await asyncio.shield(self._probe_future)

    def _ping(self) -> str | None:
        try:
            if self._probe_connection is None:
                self._probe_connection = self._connect()
            with self._probe_connection.default_channel.conn_or_acquire() as client:
                client.ping()
        except Exception as error:
            self._close_probe_connection()
            return f"Redis is not answering: {_describe(error)}"
        return None

    def _close_probe_connection(self) -> None:
        if self._probe_connection is not None:
            connection, self._probe_connection = self._probe_connection, None
            connection.collect()


def _fail(batch: list[tuple[str, asyncio.Future[None]]], error: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)


def _describe(error: BaseException) -> str:
    # kombu wraps the redis-py error (BatchPublishError, OperationalError); the
    # root cause says what actually happened.
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {error}"

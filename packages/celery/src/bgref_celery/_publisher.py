"""Publishing off the event loop: concurrent messages grouped into tasks, behind a breaker.

kombu's Redis transport and redis-py's client block: a publish that Redis does
not answer holds its thread until the socket timeout. Run on the event loop (as
this module once did, from a ``call_soon`` callback), that stopped every request
of the web process, ``/baseline/`` and ``/healthz`` included, for the length of
the timeout: about 1 s with Redis frozen (SIGSTOP), 2 s with Redis killed
(issue 18 of this repository; kombu has no asyncio producer, kombu issue 1299,
and Celery's own ``apply_async`` blocks the same way, celery issue 3884). Here
every publish runs in one dedicated thread that the loop awaits, with a bound
of its own: the loop never waits on Redis, and neither does any request that
does not publish.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis.exceptions

from ._celery import BATCH_TASK_NAME

__all__ = ["BrokerUnavailable", "Publisher"]

logger = logging.getLogger(__name__)

# At most this many messages ride in one task: enough to spread Celery's fixed
# cost per task thin, few enough that a worker killed mid-task redoes little.
MAX_BATCH = 32
# How many loop iterations a group may wait for more messages before it is sent.
_MAX_ROUNDS = 8
# How often an unavailable broker is probed until it answers again.
_PROBE_INTERVAL = 0.5


class BrokerUnavailable(Exception):
    """Redis did not take the message (or is known to be away): it is not acknowledged."""


class Publisher:
    """Sends the messages of concurrent requests to Celery, grouped, from a thread of its own.

    Each request adds its message and awaits a future. Once no more messages
    arrive (or after a few loop iterations), everything waiting goes to the
    publishing thread as ``write_messages`` tasks (up to ``MAX_BATCH`` messages
    each) in one Redis pipeline; the futures are resolved when the pipeline
    returns. Messages that arrive meanwhile wait for that round trip and go
    together in the next one: one publish in flight at a time, so a busy server
    sends fewer, fuller tasks (Celery costs about the same per task whatever its
    size, mostly in the worker).

    The socket timeouts bound a publish, and the loop waits for the thread at
    most ``timeout`` seconds besides. After a failure every request is refused
    at once (503) until a probe, run in another thread, finds the broker again.
    """

    def __init__(self, celery_app: Any, transport_options: dict[str, Any], timeout: float) -> None:
        self._app = celery_app
        # Overrides of the app's broker_transport_options: shorter timeouts.
        self._transport_options = transport_options
        # How long a request waits for its publish at most, whatever the thread does.
        self._timeout = timeout
        # The producer and its connection belong to the publishing thread alone.
        self._connection: Any = None
        self._producer: Any = None
        self._publish_executor = ThreadPoolExecutor(1, thread_name_prefix="broker-publish")
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._in_flight: asyncio.Task[None] | None = None
        self._down: str | None = None
        # When Redis last answered a publish or a probe (time.monotonic()).
        self._last_answer = float("-inf")
        self._recovery: asyncio.Task[None] | None = None
        self._refresh: asyncio.Task[str | None] | None = None
        self._probe_future: asyncio.Future[str | None] | None = None
        # Probes block on their own connection, one at a time, in their own thread,
        # so that a probe never waits behind a publish, nor a publish behind a probe.
        self._probe_executor = ThreadPoolExecutor(1, thread_name_prefix="broker-probe")
        self._probe_connection: Any = None

    async def start(self) -> None:
        """Do the slow first-use work before serving, then probe the broker once."""
        # Celery finalizes the app and imports its task, backend and event modules
        # on the first send: better at startup than inside somebody's request.
        self._app.finalize(auto=True)
        self._app.amqp.as_task_v2("warm-up", BATCH_TASK_NAME, args=([],))
        _sender = self._app.amqp.send_task_message  # a cached property: built now
        # Start the publishing thread now, not in the first request.
        await asyncio.get_running_loop().run_in_executor(self._publish_executor, lambda: None)
        # Redis may be down at startup: the app serves anyway, healthz says 503.
        await self.check()

    async def publish(self, message: str) -> None:
        """Queue ``message`` for a worker; raise ``BrokerUnavailable`` if Redis did not take it."""
        if self._down is not None:
            raise BrokerUnavailable(self._down)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((message, future))
        if len(self._pending) == 1 and self._in_flight is None:
            loop.call_soon(self._flush_when_settled, 1, 0)
        await future

    def unavailable(self) -> str | None:
        """Why the broker is unavailable as far as the publisher knows, or None; never waits.

        When Redis has not answered for a while, a probe starts in the
        background: a later call reports what it found.
        """
        stale = time.monotonic() - self._last_answer > _PROBE_INTERVAL
        if self._down is None and stale and (self._refresh is None or self._refresh.done()):
            # Its answer opens or closes the breaker; nobody waits for it.
            self._refresh = asyncio.get_running_loop().create_task(self.check())
        return self._down

    async def check(self) -> str | None:
        """Probe the broker now; return why it is unavailable, or None if it answers."""
        reason = await self._probe()
        if reason is None:
            self._mark_up()
        else:
            self._mark_down(reason)
        return reason

    def close(self) -> None:
        """Release the connections; anything still pending is refused."""
        if self._recovery is not None:
            self._recovery.cancel()
        _fail(self._pending, BrokerUnavailable("the server is shutting down"))
        self._pending = []
        # Each connection is dropped by the thread that uses it, after what it is doing.
        self._publish_executor.submit(self._reset_producer)
        self._publish_executor.shutdown(wait=False)
        self._probe_executor.submit(self._close_probe_connection)
        self._probe_executor.shutdown(wait=False)

    def _flush_when_settled(self, seen: int, rounds: int) -> None:
        # While the last loop iteration brought more messages, wait one more: a
        # busy server then sends fewer, fuller tasks, and an idle one sends at once.
        pending = len(self._pending)
        if seen < pending < MAX_BATCH and rounds < _MAX_ROUNDS:
            asyncio.get_running_loop().call_soon(self._flush_when_settled, pending, rounds + 1)
        else:
            self._flush()

    def _flush(self) -> None:
        if self._in_flight is not None:
            return  # the publish in flight sends what waits once it returns
        batch, self._pending = self._pending, []
        if not batch:  # close() refused them already
            return
        if self._down is not None:
            _fail(batch, BrokerUnavailable(self._down))
            return
        self._in_flight = asyncio.get_running_loop().create_task(self._publish_batch(batch))

    async def _publish_batch(self, batch: list[tuple[str, asyncio.Future[None]]]) -> None:
        messages = [message for message, _ in batch]
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        sent = loop.run_in_executor(self._publish_executor, self._send, messages)
        try:
            # shield: a publish that outlives the bound goes on in its thread (it
            # cannot be stopped); its outcome is unknown, as after a socket timeout.
            await asyncio.wait_for(asyncio.shield(sent), self._timeout)
        except Exception as error:
            if isinstance(error, asyncio.TimeoutError):
                reason = f"Redis did not answer within {self._timeout:g} s"
                sent.add_done_callback(functools.partial(_late, len(messages)))
            else:
                reason = f"Redis did not take the message: {_describe(error)}"
            logger.warning(
                "%s (%d messages refused after %.2f s)",
                reason,
                len(messages),
                time.monotonic() - started,
            )
            self._mark_down(reason)
            _fail(batch, BrokerUnavailable(reason))
        else:
            self._last_answer = time.monotonic()
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
        finally:
            self._in_flight = None
            if self._pending:
                # What arrived during the round trip is a group already: send it now.
                self._flush()

    def _send(self, messages: list[str]) -> None:
        try:
            self._send_once(messages)
        except Exception as error:
            self._reset_producer()
            if _timed_out(error):
                # Redis may still run a command it has not answered; sending it
                # again could queue the messages twice, and would wait as long again.
                raise
            # A connection that Redis closed (it restarted, say): one more try on
            # a new connection, as Celery's publish retry policy would.
            self._send_once(messages)

    def _send_once(self, messages: list[str]) -> None:
        producer = self._get_producer()
        send_task = self._app.send_task
        # Several tasks go out in one pipeline (one round trip), never replayed.
        with producer.batch():
            for start in range(0, len(messages), MAX_BATCH):
                chunk = messages[start : start + MAX_BATCH]
                send_task(
                    BATCH_TASK_NAME,
                    (chunk,),
                    producer=producer,
                    retry=False,
                    # What logs and monitoring show instead of the arguments: the
                    # messages are the users' data, and Celery would copy up to
                    # 1 KB of them into every task's headers.
                    argsrepr=f"(<{len(chunk)} messages>,)",
                )

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
        # collect() drops the connection without talking to Redis, which may
        # not answer; the next publish starts from a new one.
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
        self._last_answer = time.monotonic()

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


def _late(count: int, sent: asyncio.Future[None]) -> None:
    # The outcome of a publish that the loop stopped waiting for: its requests
    # got a 503, but the messages may be in Redis all the same (in doubt).
    if sent.cancelled():
        return
    error = sent.exception()
    if error is None:
        logger.warning(
            "A publish that timed out went through late: %d refused messages queued", count
        )
    else:
        logger.warning("A publish that timed out failed: %s", _describe(error))


def _causes(error: BaseException) -> list[BaseException]:
    # kombu wraps redis-py's errors (BatchPublishError, OperationalError).
    chain = [error]
    while chain[-1].__cause__ is not None:
        chain.append(chain[-1].__cause__)
    return chain


def _timed_out(error: BaseException) -> bool:
    return any(
        isinstance(cause, (TimeoutError, redis.exceptions.TimeoutError))
        for cause in _causes(error)
    )


def _describe(error: BaseException) -> str:
    root = _causes(error)[-1]
    return f"{type(root).__name__}: {root}"

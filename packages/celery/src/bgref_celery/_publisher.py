"""Celery's side of the publish gate: concurrent messages as tasks of up to 32, in one pipeline.

kombu's Redis transport and redis-py's client block: a publish that Redis does
not answer holds its thread until the socket timeout, and on the event loop it
would stop every request of the web process (issue 18 of this repository;
kombu has no asyncio producer, kombu issue 1299, and Celery's ``apply_async``
blocks the same way, celery issue 3884). So every publish runs behind
``bgref_message.queue.PublishGate``: in one thread of its own that the loop awaits,
with a bound, a breaker and no replay after a timeout.

What is Celery's here: the messages that the gate hands over together go out
as ``write_messages`` tasks of up to ``MAX_GROUP`` messages, all in one Redis
pipeline (Celery costs about the same per task whatever its size, mostly in
the worker); a connection that Redis closed gets one more try on a new one; and
Celery's slow first-use work is done before the server takes requests.
"""

from __future__ import annotations

from typing import Any

import redis.exceptions

from bgref_message.queue import MAX_GROUP, PublishGate

from ._celery import BATCH_TASK_NAME

__all__ = ["Publisher"]


class Publisher:
    """Sends the messages of concurrent requests to Celery through a ``PublishGate``.

    ``gate.submit(message)`` returns once Redis holds the message, or raises
    ``BrokerUnavailable``; ``gate.unavailable()`` says, without waiting,
    whether Redis is known to be away. The producer and its connection belong to
    the gate's publishing thread alone, the probe's connection to its probing
    thread.
    """

    def __init__(
        self,
        celery_app: Any,
        transport_options: dict[str, Any],
        timeout: float,
        linger: float = 0.0,
    ) -> None:
        self._app = celery_app
        # Overrides of the app's broker_transport_options: shorter timeouts.
        self._transport_options = transport_options
        self._connection: Any = None
        self._producer: Any = None
        self._probe_connection: Any = None
        self.gate: PublishGate[str] = PublishGate(
            self._send, self._ping, timeout=timeout, max_batch=MAX_GROUP, linger=linger
        )

    async def start(self) -> None:
        """Do the slow first-use work before serving, then start the gate (never raises)."""
        # Celery finalizes the app and imports its task, backend and event modules
        # on the first send: better at startup than inside somebody's request.
        self._app.finalize(auto=True)
        self._app.amqp.as_task_v2("warm-up", BATCH_TASK_NAME, args=([],))
        _sender = self._app.amqp.send_task_message  # a cached property: built now
        await self.gate.start()

    def close(self) -> None:
        """Refuse what is pending; each thread drops its connection after what it is doing."""
        self.gate.close(release=self._reset_producer, release_probe=self._close_probe_connection)

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
            for start in range(0, len(messages), MAX_GROUP):
                chunk = messages[start : start + MAX_GROUP]
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

    def _ping(self) -> None:
        try:
            if self._probe_connection is None:
                self._probe_connection = self._connect()
            with self._probe_connection.default_channel.conn_or_acquire() as client:
                client.ping()
        except Exception:
            self._close_probe_connection()
            raise

    def _close_probe_connection(self) -> None:
        if self._probe_connection is not None:
            connection, self._probe_connection = self._probe_connection, None
            connection.collect()


def _timed_out(error: BaseException) -> bool:
    # kombu wraps redis-py's errors (BatchPublishError, OperationalError).
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, (TimeoutError, redis.exceptions.TimeoutError)):
            return True
        cause = cause.__cause__
    return False

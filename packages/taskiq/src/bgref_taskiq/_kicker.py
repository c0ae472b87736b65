"""Kicking tasks from the event loop: the messages of concurrent requests as one task each group.

Each task costs taskiq the same whatever it carries: a message built and
serialised in the web, a stream entry, its parsing, dependency injection and
acknowledgement in the worker. So the messages that arrive while a kick is in
flight (or within one event-loop iteration) go out together, as one
``write_messages`` task of up to ``MAX_GROUP`` messages, and every request
waits for its group's kick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bgref_message.queue import MAX_GROUP, BrokerUnavailable

from ._broker import StreamBroker

__all__ = ["Kicker"]

logger = logging.getLogger(__name__)

# How often Redis is pinged: while it answers, and while it is away.
_CHECK_INTERVAL = 1.0
_PROBE_INTERVAL = 0.5

_Waiting = list[tuple[str, "asyncio.Future[None]"]]


class Kicker:
    """Sends ``write_messages`` tasks with ``kiq`` and keeps track of whether Redis answers.

    ``kiq`` is async all the way down (redis.asyncio): the event loop serves
    other requests while a kick waits. One sender task at a time takes every
    message waiting, kicks them in groups of up to ``MAX_GROUP`` (concurrently,
    when more wait), and answers each request with its group's outcome. Each
    round is bounded by ``deadline`` (a connection, then the reply) and never
    retried: a command that timed out may still be carried out. After a failure,
    every kick, waiting or new, is refused at once (503) until a ping answers
    again, so a request waits at most one round's deadline. A monitor pings
    every second (every half second while Redis is away), so ``/healthz`` reads
    the state and never waits.
    """

    def __init__(self, broker: StreamBroker, task: Any, deadline: float) -> None:
        self._broker = broker
        self._task = task
        self._deadline = deadline
        self._down: str | None = "not checked yet"
        self._monitor: asyncio.Task[None] | None = None
        self._waiting: _Waiting = []
        self._sender: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Declare the consumer group and check Redis once, then keep checking it."""
        try:
            await asyncio.wait_for(self._broker.startup(), self._deadline)
        except Exception as error:
            # The app serves anyway (healthz says 503); the worker declares the group too.
            logger.warning("Could not set up the stream: %s", _describe(error))
        await self._check()
        self._monitor = asyncio.get_running_loop().create_task(self._watch())

    async def close(self) -> None:
        """Stop checking, finish the kick in flight, and release the connections."""
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
        if self._sender is not None:
            # Uvicorn has finished its requests: nothing waits any more.
            with contextlib.suppress(Exception):
                await self._sender
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._broker.shutdown(), self._deadline)

    def unavailable(self) -> str | None:
        """Why Redis is known to be unavailable, or None if its last answer was fine."""
        return self._down

    async def kick(self, message: str) -> None:
        """Queue ``message``; raise ``BrokerUnavailable`` unless Redis holds it."""
        if self._down is not None:
            raise BrokerUnavailable(self._down)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._waiting.append((message, done))
        if self._sender is None:
            # Runs in the next loop iteration: what arrives meanwhile joins.
            self._sender = loop.create_task(self._send())
        await done

    async def _send(self) -> None:
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, []
                if self._down is not None:
                    _settle(waiting, BrokerUnavailable(self._down))
                    continue
                groups = [waiting[i : i + MAX_GROUP] for i in range(0, len(waiting), MAX_GROUP)]
                try:
                    await asyncio.wait_for(
                        asyncio.gather(*(self._task.kiq([m for m, _ in g]) for g in groups)),
                        self._deadline,
                    )
                except Exception as error:
                    reason = f"Redis did not take the message: {_describe(error)}"
                    self._mark_down(reason)
                    # Not sent again: a group that timed out may be in Redis.
                    _settle(waiting, BrokerUnavailable(reason))
                else:
                    _settle(waiting, None)
        finally:
            self._sender = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(_CHECK_INTERVAL if self._down is None else _PROBE_INTERVAL)
            await self._check()

    async def _check(self) -> None:
        try:
            await asyncio.wait_for(self._broker.client.ping(), self._deadline)
        except Exception as error:
            self._mark_down(f"Redis is not answering: {_describe(error)}")
        else:
            if self._down is not None:
                logger.warning("Broker available")
            self._down = None

    def _mark_down(self, reason: str) -> None:
        if self._down is None:
            logger.error("Broker unavailable: %s", reason)
        self._down = reason


def _settle(waiting: _Waiting, error: BrokerUnavailable | None) -> None:
    """Answer each waiting request: its message is in Redis, or ``error``'s copy."""
    for _, done in waiting:
        if done.done():
            continue  # its request was cancelled (the client went away)
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(BrokerUnavailable(str(error)))


def _describe(error: BaseException) -> str:
    # taskiq wraps the broker's error in SendTaskError; name the root cause.
    while error.__cause__ is not None:
        error = error.__cause__
    if isinstance(error, asyncio.TimeoutError):
        return "no answer in time"
    return f"{type(error).__name__}: {error}"

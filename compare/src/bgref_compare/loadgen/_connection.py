"""Keep-alive HTTP/1.1 client connections on raw asyncio protocols, and a pool of them."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import cast

from ._http import HTTPParseError, Response, ResponseParser

__all__ = ["BALANCED", "HOT", "POLICIES", "ROUND_ROBIN", "Connection", "ConnectionPool"]

# How the generator picks the connection for the next request. A server with
# several processes that share one listening socket gives each connection to
# whichever process accepts it, and keeps it there: which connections a client
# reuses decides which processes do the work.
# - HOT: the idle connection used last (what client pools and proxies do). Under
#   light load a small hot set serves everything, and it lives in one process.
# - ROUND_ROBIN: the idle connection that waited longest, so every connection of
#   the set takes its turn; the load spreads as the server spread the connections.
# - BALANCED: ROUND_ROBIN over a set that every process of the server holds an
#   equal share of (the generator asks the OS who holds each one, ``_owners``).
#   Fresh connections would not do: the kernel wakes the processes in a fixed
#   order, and the first one takes nearly all of them while its CPU is free.
HOT = "hot"
ROUND_ROBIN = "round-robin"
BALANCED = "balanced"
POLICIES = (HOT, ROUND_ROBIN, BALANCED)


class Connection(asyncio.Protocol):
    """One TCP connection that carries one request at a time."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = ResponseParser()
        self._waiter: asyncio.Future[Response] | None = None
        self.closed = False
        # perf_counter() by which the request in flight must be answered (0: none in flight).
        self.deadline = 0.0
        self.idle_since = time.perf_counter()
        # Our end's port: how the OS names the connection (``_owners``).
        self.local_port: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        sockname = transport.get_extra_info("sockname")
        self.local_port = sockname[1] if sockname else None

    def data_received(self, data: bytes) -> None:
        try:
            responses = self._parser.feed(data)
        except HTTPParseError as exc:
            self._fail(exc)
            return
        for response in responses:
            waiter, self._waiter = self._waiter, None
            self.deadline = 0.0
            if waiter is not None and not waiter.done():
                waiter.set_result(response)
            if response.close:
                self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        response = self._parser.feed_eof()
        waiter, self._waiter = self._waiter, None
        if waiter is None or waiter.done():
            return
        if response is not None:
            waiter.set_result(response)
        else:
            waiter.set_exception(exc or ConnectionResetError("connection closed before an answer"))

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.abort()

    def request(self, data: bytes, timeout: float) -> asyncio.Future[Response]:
        """Send one request; the future resolves to its response or fails."""
        if self.closed or self._transport is None:
            raise ConnectionResetError("connection is closed")
        if self._waiter is not None:
            raise RuntimeError("one request at a time on a connection")
        waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self.deadline = time.perf_counter() + timeout
        self._transport.write(data)
        return waiter

    def expire(self, now: float) -> None:
        """Fail the request in flight if its deadline has passed."""
        if self.deadline and now > self.deadline:
            self._fail(TimeoutError("no answer in time"))

    def close(self) -> None:
        """Close the connection gracefully."""
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drop the connection at once."""
        self.closed = True
        if self._transport is not None:
            self._transport.abort()


class ConnectionPool:
    """Up to ``size`` connections to one server, reused as ``policy`` says (see ``POLICIES``).

    Idle connections older than ``max_idle`` are dropped rather than reused just as
    the server closes them for being idle.
    """

    def __init__(
        self, host: str, port: int, size: int, *, policy: str = HOT, max_idle: float = 1.0
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown connection policy {policy!r}; known: {POLICIES}")
        self.host = host
        self.port = port
        self.size = size
        self.policy = policy
        self.max_idle = max_idle
        self.connects = 0
        self.connect_errors = 0
        self._idle: list[Connection] = []
        self._all: set[Connection] = set()
        self._live = 0
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()

    async def connect(self) -> Connection:
        """Open a connection outside the pool's idle list (a closed-loop worker owns its own)."""
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(Connection, self.host, self.port)
        except OSError:
            self.connect_errors += 1
            raise
        self.connects += 1
        self._all.add(conn)
        return conn

    async def acquire(self) -> Connection:
        """Take an idle connection, open one while under ``size``, else wait for one."""
        while True:
            now = time.perf_counter()
            while self._idle:
                conn = self._idle.pop(-1 if self.policy == HOT else 0)
                if not conn.closed and now - conn.idle_since < self.max_idle:
                    return conn
                self._discard(conn)
            if self._live < self.size:
                self._live += 1
                try:
                    return await self.connect()
                except OSError:
                    self._live -= 1
                    raise
            waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            handed = await waiter
            if handed is not None:
                return handed

    def release(self, conn: Connection) -> None:
        """Give a connection back (closed ones are dropped and free a slot)."""
        if conn.closed:
            self._discard(conn)
            self._wake(None)
            return
        conn.idle_since = time.perf_counter()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def adopt(self, conns: list[Connection]) -> None:
        """Take connections opened with ``connect`` as idle members of the pool."""
        now = time.perf_counter()
        for conn in conns:
            conn.idle_since = now
            self._all.add(conn)
            self._idle.append(conn)
            self._live += 1

    def forget(self, conn: Connection) -> None:
        """Stop tracking a connection opened with ``connect``."""
        self._all.discard(conn)

    def expire(self) -> None:
        """Fail every request that is past its deadline."""
        now = time.perf_counter()
        for conn in list(self._all):
            conn.expire(now)

    def close(self) -> None:
        """Close every connection."""
        for conn in list(self._all):
            conn.close()
        self._all.clear()
        self._idle.clear()
        self._live = 0

    def _discard(self, conn: Connection) -> None:
        conn.close()
        self._all.discard(conn)
        self._live -= 1

    def _wake(self, conn: Connection | None) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return

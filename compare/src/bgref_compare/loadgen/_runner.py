"""The run loop: a ``LoadSpec``'s phases, closed or open loop, in the current event loop.

``LoadRunner`` keeps a record per request (intended, sent and answered times,
status), paces the workers under the backlog's cap, follows the log as the load
runs, and hands the record to its ``PhaseSummary`` for the results. The process
around it (CPU pinning, uvloop, stdin and stdout) is ``_loadgen``.
"""

from __future__ import annotations

import asyncio
import math
import time
from array import array
from collections import deque
from collections.abc import Coroutine
from typing import Any

from ._accounting import FAILED
from ._connection import BALANCED, HOT, Connection, ConnectionPool
from ._http import HTTPParseError, RequestTemplate
from ._spec import LoadSpec, Phase
from ._summary import PhaseSummary, _PhaseState
from ._tail import LogTail
from ._usage import ServerUsage

__all__ = ["LoadRunner"]

# How often the backlog (acknowledged but not yet in the log) is sampled.
_BACKLOG_EVERY = 0.1


class LoadRunner(PhaseSummary):
    """Runs a ``LoadSpec`` in the current event loop and keeps a record per request."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.prefix = f"{spec.run_id}-"
        self.host = f"{spec.host}:{spec.port}"
        self.pool = ConnectionPool(spec.host, spec.port, size=1)
        self.tail = LogTail(spec.log_path, self.prefix) if spec.log_path else None
        self.usage = ServerUsage(spec.watch, spec.redis_url) if spec.watch else None
        # One entry per request, indexed by its sequence number.
        self.intended = array("d")
        self.sent = array("d")
        self.done = array("d")
        self.status = array("i")
        self.acked_writes = 0
        self._in_flight = 0
        self._cap = 0
        self._cap_phase: Phase | None = None
        self._writes = False
        self._running = True
        # Closed-loop connections kept open from one phase to the next.
        self._spare: list[Connection] = []
        # Closed-loop workers waiting for room under the cap, first come first served,
        # so that their connections take turns; ``_granted`` were let go and have not
        # sent yet.
        self._queue: deque[asyncio.Future[None]] = deque()
        self._granted = 0

    def _new(self, intended: float) -> int:
        seq = len(self.status)
        self.intended.append(intended)
        self.sent.append(math.nan)
        self.done.append(math.nan)
        self.status.append(FAILED)
        return seq

    async def _send(self, conn: Connection, seq: int, template: RequestTemplate) -> bool:
        """Send request ``seq`` on ``conn``; return whether the connection is still usable."""
        self.sent[seq] = time.perf_counter()
        # Requests in flight count against the backlog's cap too: otherwise every
        # waiting worker would send while the first answers are on their way.
        self._in_flight += 1
        try:
            response = await conn.request(template(seq), self.spec.timeout_s)
        except (OSError, HTTPParseError, RuntimeError):
            self.done[seq] = time.perf_counter()
            return False
        finally:
            self._in_flight -= 1
            self._grant()
        self.done[seq] = time.perf_counter()
        self.status[seq] = response.status
        if response.status == 200 and self._writes:
            self.acked_writes += 1
        return not conn.closed

    def _backlog(self) -> int:
        return self.acked_writes - len(self.tail.seen) if self.tail is not None else 0

    def _take_spare(self) -> Connection | None:
        now = time.perf_counter()
        while self._spare:
            conn = self._spare.pop()
            # An idle connection may be closed by the server at any moment; a
            # fresh one costs less than a request lost to that race.
            if not conn.closed and now - conn.idle_since < 1.0:
                return conn
            self.pool.forget(conn)
            conn.close()
        return None

    async def _wait_room(self, end: float) -> bool:
        """Wait, in turn, until the backlog has room for one more; False if the phase ended.

        Event-driven rather than polled: a poll per worker per millisecond costs the
        generator its CPU on a busy machine. ``_grant`` wakes the waiters, first
        come first served, as answers arrive and lines reach the log.
        """
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(waiter)
        self._grant()
        try:
            await asyncio.wait_for(waiter, max(0.0, end - time.perf_counter()))
        except asyncio.TimeoutError:  # not the builtin's alias before Python 3.11
            if waiter in self._queue:
                self._queue.remove(waiter)
            if waiter.done() and not waiter.cancelled():
                self._granted -= 1
            return False
        if time.perf_counter() >= end:
            self._granted -= 1
            return False
        return True

    def _sent_granted(self, capped: bool) -> None:
        # The request a grant was for is about to count as in flight (or failed).
        if capped:
            self._granted -= 1

    def _grant(self) -> None:
        room = self._cap - self._backlog() - self._in_flight - self._granted
        while room > 0 and self._queue:
            waiter = self._queue.popleft()
            if waiter.done():
                continue
            waiter.set_result(None)
            self._granted += 1
            room -= 1

    async def _closed_worker(self, template: RequestTemplate, end: float, capped: bool) -> None:
        conn = self._take_spare()
        while time.perf_counter() < end:
            if capped and not await self._wait_room(end):
                break
            seq = self._new(time.perf_counter())
            if conn is None:
                try:
                    conn = await self.pool.connect()
                except OSError:
                    self.done[seq] = time.perf_counter()
                    self._sent_granted(capped)
                    await asyncio.sleep(0.01)  # a server that is down must not spin us
                    continue
            self._sent_granted(capped)
            if not await self._send(conn, seq, template):
                self.pool.forget(conn)
                conn.abort()
                conn = None
                if self.status[seq] == FAILED:
                    await asyncio.sleep(0.001)  # a failing server must not spin us either
        if conn is not None:
            conn.idle_since = time.perf_counter()
            self._spare.append(conn)

    async def _pooled_worker(self, template: RequestTemplate, end: float, capped: bool) -> None:
        """A closed-loop worker that takes a connection from the phase's pool per request."""
        while time.perf_counter() < end:
            if capped and not await self._wait_room(end):
                break
            seq = self._new(time.perf_counter())
            self._sent_granted(capped)
            await self._open_request(seq, template)
            if self.status[seq] == FAILED:
                await asyncio.sleep(0.001)  # a failing server must not spin us

    async def _open_request(self, seq: int, template: RequestTemplate) -> None:
        try:
            conn = await self.pool.acquire()
        except OSError:
            self.done[seq] = time.perf_counter()
            return
        try:
            await self._send(conn, seq, template)
        finally:
            self.pool.release(conn)

    async def _run_phase(self, state: _PhaseState) -> None:
        phase = state.phase
        template = RequestTemplate(self.host, phase.path, self.prefix)
        self._writes = phase.writes
        # Opening a balanced set takes a moment: before the phase's clock starts.
        balanced: list[Connection] = []
        if phase.connections == BALANCED:
            balanced = await self._balanced(state, phase.concurrency)
        state.first = len(self.status)
        # Read before the clock starts and after the drain: the server's work on
        # the phase's requests, and nothing of the next phase's.
        usage_start = self.usage.read() if self.usage is not None else None
        state.cpu_start = time.process_time()
        state.start = time.perf_counter()
        if phase.rate is None:
            end = state.start + phase.seconds
            capped = phase.max_backlog is not None and self.tail is not None
            self._queue.clear()
            self._granted = 0
            self._cap = phase.max_backlog or 0
            self._cap_phase = phase if capped else None
            if phase.connections == HOT:
                worker = self._pooled_worker
                self.pool = self._new_pool(phase)
            else:
                worker = self._closed_worker
                if phase.connections == BALANCED:
                    for conn in self._spare:
                        conn.close()
                    self._spare = balanced
            await asyncio.gather(
                *(worker(template, end, capped) for _ in range(phase.concurrency))
            )
            if phase.connections == HOT:
                self.pool.close()
            state.load_end = end
            state.cap = self._cap if capped else None
            self._cap_phase = None
        else:
            await self._open_loop(state, template, phase.rate, balanced)
        state.last = len(self.status)
        state.cpu_end = time.process_time()
        state.wall_end = time.perf_counter()
        if phase.drain and phase.writes and self.tail is not None:
            await self._drain(state)
        if self.usage is not None and usage_start is not None:
            state.usage = self.usage.since(usage_start)

    async def _balanced(self, state: _PhaseState, size: int) -> list[Connection]:
        """About ``size`` new connections, every web process of the server holding its share.

        Connections are opened one at a time and kept while their process holds
        fewer than its share; the rest are closed. A process that accepts hardly
        any leaves the set smaller rather than lopsided. Outside Linux, or without
        the server's pids, the first ``size`` connections are kept as they come.
        """
        from ._owners import connection_owners

        loop = asyncio.get_running_loop()
        processes = max(1, self.spec.web_processes)
        share = math.ceil(size / processes)
        kept: dict[int, list[Connection]] = {}
        plain: list[Connection] = []
        attempts = 0
        while sum(map(len, kept.values())) < size and attempts < 8 * size:
            batch: list[Connection] = []
            for _ in range(size - sum(map(len, kept.values()))):
                attempts += 1
                try:
                    batch.append(await self.pool.connect())
                except OSError:
                    continue
                # A pause lets the server accept each one before the next arrives.
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.02)
            try:
                owners = await loop.run_in_executor(
                    None, connection_owners, self.spec.server_pids, self.spec.port
                )
            except Exception:  # no way to ask the OS: keep them as they come
                owners = {}
            if not owners:
                plain.extend(batch)
                break
            for conn in batch:
                pid = owners.get(conn.local_port or -1)
                if pid is not None and len(kept.setdefault(pid, [])) < share:
                    kept[pid].append(conn)
                else:
                    self.pool.forget(conn)
                    conn.close()
        state.per_process = sorted((len(c) for c in kept.values()), reverse=True)
        return [conn for conns in kept.values() for conn in conns] + plain

    def _new_pool(self, phase: Phase) -> ConnectionPool:
        return ConnectionPool(
            self.spec.host, self.spec.port, size=phase.concurrency, policy=phase.connections
        )

    async def _open_loop(
        self,
        state: _PhaseState,
        template: RequestTemplate,
        rate: float,
        balanced: list[Connection],
    ) -> None:
        phase = state.phase
        self.pool = self._new_pool(phase)
        self.pool.adopt(balanced)
        loop = asyncio.get_running_loop()
        count = max(1, round(rate * phase.seconds))
        interval = 1.0 / rate
        start = state.start
        tasks: set[asyncio.Task[None]] = set()
        for i in range(count):
            intended = start + i * interval
            delay = intended - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            state.dispatch_lag.append(time.perf_counter() - intended)
            task = loop.create_task(self._open_request(self._new(intended), template))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        state.load_end = start + count * interval
        # Requests still queued for a connection get the request timeout on top
        # of the time the server needs to work through the queue ahead of them.
        grace = self.spec.timeout_s + 2 * phase.seconds
        if tasks:
            _, pending = await asyncio.wait(set(tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        self.pool.close()

    async def _drain(self, state: _PhaseState) -> None:
        assert self.tail is not None
        seen = self.tail.seen
        acked = [s for s in range(state.first, state.last) if self.status[s] == 200]
        missing = [s for s in acked if s not in seen]
        deadline = time.perf_counter() + self.spec.drain_timeout_s
        while missing and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
            missing = [s for s in missing if s not in seen]
        state.drain_complete = not missing
        stamps = [seen[s] for s in acked if s in seen]
        state.drain_s = max(0.0, max(stamps) - state.load_end) if stamps else 0.0

    async def _follow(self) -> None:
        assert self.tail is not None
        while self._running:
            self.tail.poll()
            if self._queue:
                self._grant()
            await asyncio.sleep(self.spec.poll_s)

    async def _watch(self, states: list[_PhaseState]) -> None:
        next_sample = time.perf_counter()
        history: list[tuple[float, int]] = []
        while self._running:
            await asyncio.sleep(0.05)
            self.pool.expire()
            now = time.perf_counter()
            if self.tail is None:
                continue
            history.append((now, len(self.tail.seen)))
            phase = self._cap_phase
            if phase is not None and phase.max_backlog is not None:
                # Completions over the last quarter second or so, as a rate.
                while len(history) > 2 and now - history[1][0] >= 0.25:
                    history.pop(0)
                then, count = history[0]
                rate = (len(self.tail.seen) - count) / max(now - then, 1e-3)
                self._cap = max(self._cap, phase.max_backlog, int(rate * phase.backlog_seconds))
                self._grant()
            if now >= next_sample and states:
                next_sample = now + _BACKLOG_EVERY
                state = states[-1]
                state.backlog.append((round(now - state.start, 3), max(0, self._backlog())))

    async def run(self) -> dict[str, Any]:
        """Run every phase in order and return the results."""
        states: list[_PhaseState] = []
        background: list[Coroutine[Any, Any, None]] = [self._watch(states)]
        if self.tail is not None:
            background.append(self._follow())
        helpers = [asyncio.ensure_future(c) for c in background]
        try:
            for phase in self.spec.phases:
                state = _PhaseState(phase)
                states.append(state)
                await self._run_phase(state)
        finally:
            self._running = False
            await asyncio.gather(*helpers)
            for conn in self._spare:
                conn.close()
            self._spare.clear()
        return self._results(states)

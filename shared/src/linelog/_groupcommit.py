"""Group commit: concurrent writers share one fsync of the log file."""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time

__all__ = ["GroupCommit"]

# The longest a leader waits for the writers of the previous batch to join its fsync.
_MAX_GATHER = 0.002


class _LoopWaiters:
    """The coroutines of one event loop that wait for their writes to be synced."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[tuple[int, asyncio.Future[None]]] = []
        self.flight: asyncio.Future[None] | None = None


class GroupCommit:
    """Leader/follower fsync batching over a counter of writes handed to the OS.

    A writer takes a ticket after its write. It returns once an fsync that
    started after its write has finished: either one it runs itself as the
    leader, covering every write made so far, or one it waits for as a
    follower. A leader that is done wakes the followers it covered and one of
    the others, who leads the next fsync: while one fsync runs, the writers
    released by the previous one write the lines that the next one covers.
    The coroutines of an event loop wait on futures instead, and share one
    fsync at a time, run by ``sync`` in the loop's default executor.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget all state; used after a fork, where a leader thread may not exist."""
        self._lock = threading.Lock()
        # Wakes a gathering leader (see _gather).
        self._gathered = threading.Condition(self._lock)
        # Followers each block on a lock of their own, which a leader releases
        # when their write is covered: no shared lock to queue for on waking.
        self._parked: list[tuple[int, threading.Lock]] = []
        self._written = 0
        self._synced = 0
        self._leading = False
        # The writes that the last fsync covered, and how long it took.
        self._batch = 1
        self._fsync_seconds = 0.0
        # Writes numbered in (_lost_from, _lost_to] were covered by a failed
        # fsync: they may be lost (Linux may drop the dirty pages and report
        # the error once), so their writers get the error, even if a later
        # fsync succeeds.
        self._lost_from = 0
        self._lost_to = 0
        self._failure: OSError | None = None
        # Descriptors of files replaced by a reopen, to be synced by the next fsync.
        self._retired: list[int] = []
        # The coroutines waiting in each thread's event loop.
        self._local = threading.local()

    def retire(self, fd: int) -> None:
        """Hand over ``fd``, a file replaced by a reopen: the next fsync syncs and closes it."""
        with self._lock:
            self._retired.append(fd)

    def release(self) -> None:
        """Close retired descriptors without syncing them (the writer is closing)."""
        with self._lock:
            retired, self._retired = self._retired, []
        for fd in retired:
            os.close(fd)

    def ticket(self) -> int:
        """Count one write that was just handed to the OS and return its number."""
        with self._lock:
            return self._count()

    def _count(self) -> int:
        self._written += 1
        if self._leading and self._written - self._synced >= self._batch:
            self._gathered.notify()
        return self._written

    def sync(self, fd: int, ticket: int | None = None) -> None:
        """Return once write ``ticket`` is on stable storage, or raise OSError.

        Without a ticket, count a write that was just handed to the OS first
        (one lock round trip instead of two with ``ticket``).
        """
        while True:
            with self._lock:
                if ticket is None:
                    ticket = self._count()
                if self._lost(ticket):
                    raise self._lost_error()
                if self._synced >= ticket:
                    return
                if not self._leading:
                    self._leading = True
                    try:
                        target = self._gather()
                    except BaseException:
                        self._hand_over()
                        raise
                    break
                parked = threading.Lock()
                parked.acquire()
                self._parked.append((ticket, parked))
            parked.acquire()
        start = time.monotonic()
        try:
            os.fsync(fd)
            # Retired after this fsync started, they may hold lines up to the target.
            self._sync_retired()
        except BaseException as error:
            with self._lock:
                if isinstance(error, OSError):
                    # An earlier range is kept in the union: its waiters may not
                    # all have woken yet.
                    if self._failure is None:
                        self._lost_from = self._synced
                    self._lost_to, self._failure = target, error
                self._hand_over()
            raise
        with self._lock:
            self._fsync_seconds = time.monotonic() - start
            self._batch = target - self._synced
            self._synced = target
            self._hand_over()

    def _lost(self, ticket: int) -> bool:
        return self._failure is not None and self._lost_from < ticket <= self._lost_to

    def _lost_error(self) -> OSError:
        assert self._failure is not None
        return OSError(self._failure.errno, self._failure.strerror)

    def _gather(self) -> int:
        """Wait briefly for more writes to cover, then return the fsync's target."""
        # The writers that the last fsync released are writing their next
        # lines: wait a little for them. Otherwise this fsync covers only the
        # leader's line, and their appends during it slow it down as well.
        deadline = time.monotonic() + min(self._fsync_seconds, _MAX_GATHER)
        while self._written - self._synced < self._batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._gathered.wait(remaining)
        return self._written

    def _hand_over(self) -> None:
        """End this leader's turn and wake the followers it decided (called with the lock held)."""
        self._leading = False
        waiting = []
        for ticket, lock in self._parked:
            if ticket <= self._synced or self._lost(ticket):
                lock.release()
            else:
                waiting.append((ticket, lock))
        if waiting:
            # One of the others leads the next fsync; the rest sleep on.
            waiting.pop(0)[1].release()
        self._parked = waiting

    def _sync_retired(self) -> None:
        with self._lock:
            retired, self._retired = self._retired, []
        try:
            for fd in retired:
                os.fsync(fd)
        finally:
            for fd in retired:
                os.close(fd)

    async def async_sync(self, fd: int, ticket: int) -> None:
        """Like ``sync``; the coroutines of a loop share one fsync run in a worker thread."""
        if self._synced >= ticket:
            return
        loop = asyncio.get_running_loop()
        waiters: _LoopWaiters | None = getattr(self._local, "waiters", None)
        if waiters is None or waiters.loop is not loop:
            waiters = self._local.waiters = _LoopWaiters(loop)
        # A future per waiter: cancelling one waiter must not cancel the others.
        future = loop.create_future()
        waiters.waiting.append((ticket, future))
        if waiters.flight is None:
            self._launch(waiters, fd)
        await future

    def _launch(self, waiters: _LoopWaiters, fd: int) -> None:
        ticket = max(ticket for ticket, _ in waiters.waiting)
        flight = waiters.loop.run_in_executor(None, self.sync, fd, ticket)
        waiters.flight = flight
        flight.add_done_callback(functools.partial(self._landed, waiters, fd))

    def _landed(self, waiters: _LoopWaiters, fd: int, flight: asyncio.Future[None]) -> None:
        waiters.flight = None
        error = flight.exception()
        still_waiting = []
        for ticket, future in waiters.waiting:
            if future.done():  # cancelled
                continue
            if self._lost(ticket):
                future.set_exception(self._lost_error())
            elif ticket <= self._synced:
                future.set_result(None)
            elif error is not None and not isinstance(error, OSError):
                future.set_exception(error)
            else:
                # Written after the flight's fsync started (or failed): another flight.
                still_waiting.append((ticket, future))
        waiters.waiting = still_waiting
        if still_waiting:
            self._launch(waiters, fd)

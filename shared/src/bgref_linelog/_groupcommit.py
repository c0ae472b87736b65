"""Group commit: concurrent writers share one write and one fsync of the log file."""

from __future__ import annotations

import asyncio
import errno
import functools
import os
import threading
import time
from collections import deque

__all__ = ["GroupCommit"]

# The longest a leader waits for the writers of the previous batch to join its fsync.
_MAX_GATHER = 0.002
# Makes the lock a follower sleeps on (tests replace it to interrupt the sleep).
_new_lock = threading.Lock


class _LoopWaiters:
    """The coroutines of one event loop that wait for their writes to be synced."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[tuple[int, asyncio.Future[None]]] = []
        self.flight: asyncio.Future[None] | None = None


class _Follower:
    """A thread asleep until a leader covers its write, or makes it lead the next fsync."""

    __slots__ = ("chain", "lock", "ticket")

    def __init__(self, ticket: int) -> None:
        self.ticket = ticket
        # Each follower sleeps on a lock of its own: no shared lock to queue for on waking.
        self.lock = _new_lock()
        self.lock.acquire()
        # The followers woken with this one, if it was covered (None: it is to lead).
        self.chain: deque[_Follower] | None = None

    def wake_next(self) -> None:
        """Wake the next follower covered by the same fsync, if any."""
        # Only one thread at a time gets here for a chain: the one just woken.
        if self.chain:
            self.chain.popleft().lock.release()


class GroupCommit:
    """Leader/follower batching of the lines that writers queue: one write, one fsync.

    A writer queues its line and takes a ticket. It returns once an fsync that
    started after its line was written has finished: either one it runs
    itself as the leader, which first writes every queued line with one
    ``os.write``, or one it waits for as a follower. A leader that is done
    wakes the followers it covered and one of the others, who leads the next
    fsync: while one fsync runs, the writers released by the previous one
    queue the lines that the next one covers. The coroutines of an event loop
    wait on futures instead, and share one fsync at a time, run by ``sync``
    in the loop's default executor.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget all state; used after a fork, where a leader thread may not exist."""
        self._lock = threading.Lock()
        # Wakes a gathering leader (see _gather).
        self._gathered = threading.Condition(self._lock)
        self._parked: list[_Follower] = []
        # Lines queued for the next leader to write, and how many were ever queued.
        self._pending: list[bytes] = []
        self._queued = 0
        self._synced = 0
        self._leading = False
        # The lines that the last fsync covered, and how long it took.
        self._batch = 1
        self._fsync_seconds = 0.0
        # Lines numbered in (_lost_from, _lost_to] were covered by a failed
        # write or fsync: they may be lost (Linux may drop the dirty pages and
        # report the error once), so their writers get the error, even if a
        # later fsync succeeds.
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

    @property
    def pending(self) -> int:
        """How many queued lines no leader has taken yet."""
        return len(self._pending)

    def flush(self, fd: int) -> None:
        """Write and sync any lines still queued, whose writers stopped waiting for them."""
        with self._lock:
            if not self._pending:
                return
            ticket = self._queued
        self.sync(fd, ticket)

    def queue(self, data: bytes) -> int:
        """Queue ``data`` (whole lines) for the next leader to write, and return its ticket."""
        with self._lock:
            self._pending.append(data)
            self._queued += 1
            if self._leading and self._queued - self._synced >= self._batch:
                self._gathered.notify()
            return self._queued

    def commit(self, fd: int, data: bytes) -> None:
        """Append ``data`` to ``fd`` and return once it is on stable storage, or raise OSError."""
        self.sync(fd, self.queue(data))

    def sync(self, fd: int, ticket: int) -> None:
        """Return once the line of ``ticket`` is on stable storage, or raise OSError."""
        while True:
            with self._lock:
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
                    lines, self._pending = self._pending, []
                    break
                follower = _Follower(ticket)
                self._parked.append(follower)
            try:
                follower.lock.acquire()
            except BaseException:  # a signal handler raised (the main thread only)
                self._abandon(follower)
                raise
            follower.wake_next()
        start = time.monotonic()
        try:
            _write_all(fd, b"".join(lines))
            os.fsync(fd)
            # Retired after this fsync started, they may hold lines up to the target.
            self._sync_retired()
        except BaseException as error:
            with self._lock:
                # An earlier range is kept in the union: its waiters may not all
                # have woken yet.
                if self._failure is None:
                    self._lost_from = self._synced
                self._lost_to = target
                if isinstance(error, OSError):
                    self._failure = error
                else:
                    # The queued lines may not even have been written.
                    reason = f"interrupted by {type(error).__name__}"
                    self._failure = OSError(errno.EIO, reason)
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
        """Wait briefly for more lines to cover, then return the fsync's target."""
        # The writers that the last fsync released are queueing their next
        # lines: wait a little for them. Otherwise this fsync covers only the
        # leader's line, and the others wait for the next one.
        deadline = time.monotonic() + min(self._fsync_seconds, _MAX_GATHER)
        while self._queued - self._synced < self._batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._gathered.wait(remaining)
        return self._queued

    def _hand_over(self) -> None:
        """End this leader's turn and wake the followers it decided (called with the lock held)."""
        self._leading = False
        done: deque[_Follower] = deque()
        waiting = []
        for follower in self._parked:
            if follower.ticket <= self._synced or self._lost(follower.ticket):
                follower.chain = done
                done.append(follower)
            else:
                waiting.append(follower)
        self._parked = waiting
        if waiting:
            # One of the others leads the next fsync; the rest sleep on.
            waiting.pop(0).lock.release()
        if done:
            # Woken all at once, the followers would fight over the GIL: each
            # wakes the next instead (see _Follower.wake_next).
            done.popleft().lock.release()

    def _abandon(self, follower: _Follower) -> None:
        """Do the duty of a follower whose sleep was interrupted: nobody else will."""
        with self._lock:
            if follower in self._parked:
                self._parked.remove(follower)
                return
            if follower.chain is None and self._parked and not self._leading:
                # It was woken to lead the next fsync: another waiter leads instead.
                self._parked.pop(0).lock.release()
                return
        follower.wake_next()

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
            if future.done():
                # Cancelled: its line, if still queued, goes with the next fsync
                # or is written by close().
                continue
            if error is not None and not isinstance(error, OSError):
                # The flight itself broke (not the file): its waiters see why.
                future.set_exception(error)
            elif self._lost(ticket):
                future.set_exception(self._lost_error())
            elif ticket <= self._synced:
                future.set_result(None)
            else:
                # Queued after the flight's fsync started (or it failed): another flight.
                still_waiting.append((ticket, future))
        waiters.waiting = still_waiting
        if still_waiting:
            self._launch(waiters, fd)


def _write_all(fd: int, data: bytes) -> None:
    # A regular file writes short only when it runs out of space: finish, or raise.
    written = os.write(fd, data)
    while written < len(data):
        written += os.write(fd, data[written:])

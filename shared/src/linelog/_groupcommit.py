"""Group commit: concurrent writers share one fsync of the log file."""

from __future__ import annotations

import asyncio
import os
import threading

__all__ = ["GroupCommit"]


class GroupCommit:
    """Leader/follower fsync batching over a counter of writes handed to the OS.

    A writer takes a ticket after its write. It returns once an fsync that
    started after its write has finished: either one it runs itself as the
    leader, covering every write made so far, or one it waits for as a follower.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget all state; used after a fork, where a leader thread may not exist."""
        self._cond = threading.Condition(threading.Lock())
        self._written = 0
        self._synced = 0
        self._leading = False
        # Writes up to this number were covered by a failed fsync: they may be
        # lost (Linux may drop the dirty pages), so their writers get the error
        # rather than a later fsync's success.
        self._failed = 0
        self._failure: OSError | None = None
        # The fsync in flight for the coroutines of each thread's event loop.
        self._local = threading.local()

    def ticket(self) -> int:
        """Count one write that was just handed to the OS and return its number."""
        with self._cond:
            self._written += 1
            return self._written

    def sync(self, fd: int, ticket: int) -> None:
        """Return once the write numbered ``ticket`` is on stable storage, or raise OSError."""
        cond = self._cond
        with cond:
            while True:
                if self._synced >= ticket:
                    return
                if self._failure is not None and ticket <= self._failed:
                    raise OSError(self._failure.errno, self._failure.strerror)
                if not self._leading:
                    break
                cond.wait()
            self._leading = True
            target = self._written
        try:
            os.fsync(fd)
        except BaseException as error:
            with cond:
                self._leading = False
                if isinstance(error, OSError):
                    self._failed, self._failure = target, error
                cond.notify_all()
            raise
        with cond:
            self._leading = False
            self._synced = target
            cond.notify_all()

    async def async_sync(self, fd: int, ticket: int) -> None:
        """Like ``sync``, awaiting one shared fsync in a worker thread per event loop."""
        loop = asyncio.get_running_loop()
        local = self._local
        while self._synced < ticket:
            flight: asyncio.Future[None] | None = getattr(local, "flight", None)
            if flight is None or flight.done() or flight.get_loop() is not loop:
                flight = loop.run_in_executor(None, self.sync, fd, self._written)
                local.flight = flight
            try:
                # Shielded: a cancelled waiter must not cancel the fsync the others await.
                await asyncio.shield(flight)
            except OSError:
                # The failed fsync may have started before this write: retry then.
                if ticket <= self._failed:
                    raise

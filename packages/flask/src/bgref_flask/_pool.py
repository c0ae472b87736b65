"""A fixed set of worker threads fed by a bounded queue, drained before the process exits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec

__all__ = ["PoolClosed", "QueueFull", "WorkPool"]

_P = ParamSpec("_P")


class QueueFull(Exception):
    """Raised by `WorkPool.submit` when the queue is full: the caller should answer 503."""


class PoolClosed(Exception):
    """Raised by `WorkPool.submit` once the pool is draining or the interpreter is exiting."""


class WorkPool:
    """Run callables on ``workers`` threads, with at most ``queue_size`` of them waiting.

    The pool counts every accepted callable until it has finished, so `submit`
    can refuse work instead of queueing without bound, and `drain` can wait for
    the exact moment when nothing acknowledged is left.  An exception raised by
    a callable is logged with its traceback and never ends a worker thread.
    """

    def __init__(
        self,
        workers: int,
        queue_size: int,
        *,
        logger: logging.Logger,
        name: str = "bgref-flask-pool",
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.workers = workers
        self.queue_size = queue_size
        # Each worker holds one item and up to queue_size more wait for a worker.
        self.capacity = workers + queue_size
        self._logger = logger
        # The executor's threads are not daemons: if the process exits without a
        # drain, concurrent.futures still runs every queued item before exiting.
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._cond = threading.Condition()
        self._pending = 0
        self._closed = False

    @property
    def pending(self) -> int:
        """The number of accepted callables that have not finished yet."""
        return self._pending

    @property
    def accepting(self) -> bool:
        """Whether `submit` would accept one more callable right now."""
        return not self._closed and self._pending < self.capacity

    @property
    def closed(self) -> bool:
        """Whether `drain` has been called."""
        return self._closed

    def submit(self, fn: Callable[_P, object], /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        """Queue ``fn(*args, **kwargs)``; raise `QueueFull` or `PoolClosed` instead of blocking."""
        with self._cond:
            if self._closed:
                raise PoolClosed("the work pool is draining")
            if self._pending >= self.capacity:
                raise QueueFull(f"the work queue is full ({self.queue_size} waiting)")
            self._pending += 1
        try:
            self._executor.submit(self._run, fn, args, kwargs)
        except RuntimeError:
            # concurrent.futures refuses work once the interpreter is shutting down.
            self._finish()
            raise PoolClosed("the interpreter is shutting down") from None

    def drain(self, timeout: float | None = None) -> bool:
        """Refuse new work and wait for every accepted callable; True if all finished."""
        with self._cond:
            self._closed = True
            done = self._cond.wait_for(lambda: self._pending == 0, timeout)
        # The threads are idle when done; otherwise let them go on without waiting.
        self._executor.shutdown(wait=done)
        return done

    def _run(
        self, fn: Callable[..., object], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        try:
            fn(*args, **kwargs)
        except Exception:
            self._logger.exception("background work %s failed", getattr(fn, "__qualname__", fn))
        finally:
            self._finish()

    def _finish(self) -> None:
        with self._cond:
            self._pending -= 1
            if self._pending == 0:
                self._cond.notify_all()

"""A timer thread that marks writers due for their next rotation check."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import weakref
from typing import Protocol

__all__ = ["Ticker"]


class Due(Protocol):
    """Something that wants to be told when a deadline has passed."""

    def _mark_due(self) -> None:
        """Note that the deadline passed; must be quick and take no lock."""


# (deadline, tie-breaker, target) in a heap ordered by deadline.
_Schedule = list[tuple[float, int, weakref.ref[Due]]]


class Ticker:
    """One daemon thread per process that calls ``_mark_due`` on targets at their deadlines.

    It lets the write path test a flag instead of reading the clock on every
    write. The thread starts with the first deadline and ends after
    ``idle_exit`` seconds with nothing scheduled, so that an idle process is
    single-threaded again (forking a multi-threaded process is risky).
    """

    idle_exit = 1.0

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the thread and the schedule; used in a forked child, where the thread is gone."""
        self._cond = threading.Condition(threading.Lock())
        self._heap: _Schedule = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, target: Due, delay: float) -> bool:
        """Call ``target._mark_due()`` in ``delay`` seconds; False if no thread can do it."""
        deadline = time.monotonic() + delay
        with self._cond:
            if self._thread is None:
                thread = threading.Thread(
                    target=self._run,
                    args=(self._cond, self._heap, self.idle_exit),
                    name="linelog-ticker",
                )
                thread.daemon = True
                try:
                    thread.start()
                except RuntimeError:
                    # No new threads while the interpreter shuts down.
                    return False
                self._thread = thread
            heapq.heappush(self._heap, (deadline, next(self._order), weakref.ref(target)))
            self._cond.notify()
        return True

    def _run(self, cond: threading.Condition, heap: _Schedule, idle_exit: float) -> None:
        with cond:
            while True:
                if not heap:
                    if not cond.wait(idle_exit) and not heap:
                        # After a reset, the schedule and the thread slot are someone else's.
                        if self._cond is cond:
                            self._thread = None
                        return
                    continue
                wait = heap[0][0] - time.monotonic()
                if wait > 0:
                    cond.wait(wait)
                    continue
                target = heapq.heappop(heap)[2]()
                if target is not None:
                    target._mark_due()

"""The timer thread behind the rotation window."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Callable

import pytest

from bgref_linelog._ticker import Ticker


class Target:
    """Records when it was marked due."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.at = 0.0

    def _mark_due(self) -> None:
        self.at = time.monotonic()
        self.event.set()


def test_marks_targets_in_deadline_order() -> None:
    ticker = Ticker()
    late, early = Target(), Target()
    start = time.monotonic()
    assert ticker.schedule(late, 0.2)
    assert ticker.schedule(early, 0.05)
    assert early.event.wait(5)
    assert late.event.wait(5)
    assert start + 0.05 <= early.at < late.at
    assert late.at >= start + 0.2


def test_forgets_collected_targets() -> None:
    ticker = Ticker()
    gone, kept = Target(), Target()
    ticker.schedule(gone, 0.05)
    ticker.schedule(kept, 0.1)
    collected = weakref.ref(gone)
    del gone
    gc.collect()
    assert collected() is None  # the schedule holds no strong reference
    assert kept.event.wait(5)
    with ticker._cond:  # both entries are off the schedule, the dead one too
        assert ticker._heap == []


def test_sleeps_while_idle_and_wakes_for_new_work() -> None:
    ticker = Ticker()
    # Long enough that the thread cannot end between the two schedules.
    ticker.idle_exit = 60
    first, second = Target(), Target()
    ticker.schedule(first, 0)
    assert first.event.wait(5)
    # The thread marks a target with the lock held and releases it only by
    # waiting: once this thread holds it, the ticker waits with nothing scheduled.
    with ticker._cond:
        assert ticker._heap == []
    ticker.schedule(second, 0)
    assert second.event.wait(5)


def test_no_thread_at_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert Ticker().schedule(Target(), 0) is False


def _wait_until(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 5
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_thread_ends_when_idle_and_comes_back() -> None:
    ticker = Ticker()
    ticker.idle_exit = 0.05
    first, second = Target(), Target()
    ticker.schedule(first, 0)
    thread = ticker._thread
    assert thread is not None
    assert first.event.wait(5)
    assert _wait_until(lambda: ticker._thread is None)
    thread.join(5)
    assert not thread.is_alive()
    ticker.schedule(second, 0)
    assert second.event.wait(5)


def test_reset_leaves_the_new_thread_slot_alone() -> None:
    ticker = Ticker()
    ticker.idle_exit = 0.05
    ticker.schedule(Target(), 0)
    old = ticker._thread
    assert old is not None
    ticker.reset()
    ticker.idle_exit = 60
    target = Target()
    ticker.schedule(target, 0)
    new = ticker._thread
    assert target.event.wait(5)
    old.join(5)
    assert not old.is_alive()
    assert ticker._thread is new

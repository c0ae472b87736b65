"""The retry's bounds, order, backoff and shutdown, with an injected clock and write."""

from __future__ import annotations

import errno
import logging
import threading
import time

import pytest

from bgref_linelog._backlog import Backlog, may_pass

PATH = "/var/log/app.log"


class Clock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class File:
    """A write function that fails while ``broken``, or writes at most ``limit`` bytes."""

    def __init__(self) -> None:
        self.data = b""
        self.broken = True
        self.limit: int | None = None
        self.calls = 0

    def __call__(self, data: bytes) -> int:
        self.calls += 1
        if self.broken:
            return 0
        taken = data if self.limit is None else data[: self.limit]
        self.data += taken
        return len(taken)

    @property
    def lines(self) -> list[bytes]:
        return self.data.splitlines()


def _backlog(file: File, clock: Clock, seconds: float = 10.0, lines: int = 100) -> Backlog:
    return Backlog(PATH, seconds, lines, file, clock=clock, background=False)


ERROR = OSError(errno.EISDIR, "Is a directory")


def test_errors_that_may_pass() -> None:
    for code in (errno.ENOENT, errno.EISDIR, errno.ENOSPC, errno.EIO, errno.EACCES, errno.EPERM):
        assert may_pass(OSError(code, "x"))
    for code in (errno.EBADF, errno.ENAMETOOLONG, errno.EINVAL, errno.EFBIG):
        assert not may_pass(OSError(code, "x"))


def test_held_lines_are_written_oldest_first_once_the_path_is_back() -> None:
    file, clock = File(), Clock()
    backlog = _backlog(file, clock)
    backlog.hold([b"a\n", b"b\n"], ERROR)
    backlog.hold([b"c\n"])
    assert len(backlog) == 3
    assert backlog.attempt() is not None  # still failing: try again later
    file.broken = False
    assert backlog.attempt() is None
    assert file.lines == [b"a", b"b", b"c"]
    assert (len(backlog), backlog.lost) == (0, 0)


def test_the_line_bound_drops_the_newest_lines() -> None:
    file, clock = File(), Clock()
    backlog = _backlog(file, clock, lines=3)
    backlog.hold([b"a\n", b"b\n"], ERROR)
    backlog.hold([b"c\n", b"d\n"])
    backlog.hold([b"e\n"])
    assert (len(backlog), backlog.lost) == (3, 2)
    file.broken = False
    assert backlog.attempt() is None
    assert file.lines == [b"a", b"b", b"c"]


def test_the_time_bound_drops_each_line_when_its_time_is_up() -> None:
    file, clock = File(), Clock()
    backlog = _backlog(file, clock, seconds=10.0)
    backlog.hold([b"old\n"], ERROR)
    clock.now += 6
    backlog.hold([b"new\n"])
    clock.now += 4  # "old" has waited 10 s, "new" 4 s
    delay = backlog.attempt()
    assert (len(backlog), backlog.lost) == (1, 1)
    assert delay is not None
    clock.now += 5.999
    backlog.attempt()
    assert len(backlog) == 1
    file.broken = False
    assert backlog.attempt() is None
    assert file.lines == [b"new"]


def test_backoff_doubles_to_a_ceiling_and_wakes_for_the_next_expiry() -> None:
    file, clock = File(), Clock()
    backlog = _backlog(file, clock, seconds=1.0)
    backlog.hold([b"a\n"], ERROR)
    delays = [backlog.attempt() for _ in range(7)]
    assert delays == [0.01, 0.02, 0.04, 0.08, 0.16, 0.25, 0.25]
    clock.now += 0.9
    assert backlog.attempt() == pytest.approx(0.1)  # the line expires then
    clock.now = 101.0
    assert backlog.attempt() is None
    assert backlog.lost == 1


def test_a_short_write_is_finished_not_repeated_nor_torn() -> None:
    file, clock = File(), Clock()
    backlog = _backlog(file, clock, seconds=1.0)
    backlog.hold([b"first\n", b"second\n"], ERROR)
    file.broken, file.limit = False, 3
    assert backlog.attempt() is not None
    file.broken = True
    clock.now += 5  # both expired, but "first" is half written: it is kept
    backlog.attempt()
    assert (len(backlog), backlog.lost) == (1, 1)
    file.broken, file.limit = False, None
    assert backlog.attempt() is None
    assert file.lines == [b"first"]


def test_one_warning_at_the_start_and_one_report_at_the_end_of_an_episode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    file, clock = File(), Clock()
    backlog = _backlog(file, clock, seconds=10.0, lines=2)
    with caplog.at_level(logging.WARNING, logger="bgref_linelog"):
        backlog.hold([b"a\n"], ERROR)
        backlog.hold([b"b\n"], ERROR)
        backlog.hold([b"c\n", b"d\n"])
        for _ in range(5):
            backlog.attempt()
        clock.now += 10
        assert backlog.attempt() is None
    warning, report = caplog.records
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == (
        f"cannot write {PATH}; holding lines to retry for up to 10 s (at most 2 lines)"
    )
    assert warning.exc_info is not None
    assert warning.exc_info[1] is ERROR
    assert report.levelno == logging.ERROR
    assert report.getMessage() == (
        f"4 lines not written to {PATH}: beyond the retry bound (10 s, 2 lines)"
    )
    assert backlog.lost == 4


def test_an_episode_that_lost_nothing_says_so(caplog: pytest.LogCaptureFixture) -> None:
    file, clock = File(), Clock()
    backlog = _backlog(file, clock)
    with caplog.at_level(logging.WARNING, logger="bgref_linelog"):
        backlog.hold([b"a\n", b"b\n"], ERROR)
        file.broken = False
        backlog.attempt()
    assert caplog.records[-1].getMessage() == f"wrote the 2 held lines to {PATH}"


def test_lines_held_only_to_keep_their_place_report_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A writer saw held lines, but the retry wrote them before it held its own.
    file, clock = File(), Clock()
    file.broken = False
    backlog = _backlog(file, clock)
    with caplog.at_level(logging.DEBUG, logger="bgref_linelog"):
        backlog.hold([b"a\n"])
        assert backlog.attempt() is None
        assert backlog.attempt() is None
    assert caplog.records == []
    assert file.lines == [b"a"]


def test_close_makes_a_last_try_and_reports_what_it_could_not_write(
    caplog: pytest.LogCaptureFixture,
) -> None:
    file, clock = File(), Clock()
    backlog = _backlog(file, clock, seconds=1.0)
    backlog.hold([b"a\n", b"b\n"], ERROR)
    clock.now += 0.5
    calls = file.calls
    with caplog.at_level(logging.ERROR, logger="bgref_linelog"):
        assert backlog.close() == 2
    assert file.calls == calls + 1
    [report] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert report.getMessage() == (
        f"2 lines not written to {PATH}: beyond the retry bound (1 s, 100 lines),"
        " or still failing at close()"
    )
    assert (len(backlog), backlog.lost) == (0, 2)
    assert backlog.close() == 0


def test_close_writes_lines_past_their_time_if_it_can() -> None:
    file, clock = File(), Clock()
    backlog = _backlog(file, clock, seconds=1.0)
    backlog.hold([b"a\n"], ERROR)
    clock.now += 60  # not retried meanwhile (a busy machine): close still tries
    file.broken = False
    assert backlog.close() == 0
    assert file.lines == [b"a"]


def test_disabled_by_a_zero_bound() -> None:
    assert not Backlog(PATH, 0.0, 10, File()).enabled
    assert not Backlog(PATH, 1.0, 0, File()).enabled
    assert Backlog(PATH, 1.0, 1, File()).enabled


class Gate:
    """A write function that fails until ``open`` is set, and tells when it was called."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.called = threading.Event()
        self.data = b""

    def __call__(self, data: bytes) -> int:
        self.called.set()
        if not self.open.is_set():
            return 0
        self.data += data
        return len(data)


def test_the_retry_thread_writes_then_ends() -> None:
    gate = Gate()
    backlog = Backlog(PATH, 30.0, 100, gate)
    backlog.hold([b"a\n"], ERROR)
    thread = backlog._thread
    assert thread is not None
    assert thread.name == "linelog-retry"
    assert thread.daemon
    assert gate.called.wait(30)
    backlog.hold([b"b\n"])
    gate.open.set()
    thread.join(30)
    assert not thread.is_alive()
    assert gate.data == b"a\nb\n"
    assert (backlog._thread, len(backlog)) == (None, 0)
    # The next failure starts a new thread.
    gate.open.clear()
    backlog.hold([b"c\n"], ERROR)
    assert backlog._thread is not None
    assert backlog._thread is not thread
    gate.open.set()
    backlog._thread.join(30)
    assert gate.data == b"a\nb\nc\n"


def test_close_stops_the_retry_thread() -> None:
    gate = Gate()
    backlog = Backlog(PATH, 30.0, 100, gate)
    backlog.hold([b"a\n"], ERROR)
    thread = backlog._thread
    assert thread is not None
    assert gate.called.wait(30)
    assert backlog.close() == 1
    assert not thread.is_alive()
    assert backlog._thread is None


def test_a_line_held_as_the_thread_finds_none_left_is_still_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The window between the thread's last attempt and its exit, made to happen.
    gate = Gate()
    gate.open.set()
    backlog = Backlog(PATH, 30.0, 100, gate)
    attempt = backlog.attempt
    late = [b"late\n"]

    def attempt_then_hold() -> float | None:
        delay = attempt()
        if late:
            backlog.hold([late.pop()])
        return delay

    monkeypatch.setattr(backlog, "attempt", attempt_then_hold)
    backlog.hold([b"a\n"], ERROR)
    deadline = time.monotonic() + 30
    while backlog._thread is not None or len(backlog):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert gate.data == b"a\nlate\n"


def test_reset_forgets_held_lines() -> None:
    backlog = _backlog(File(), Clock())
    backlog.hold([b"a\n"], ERROR)
    backlog.reset()
    assert len(backlog) == 0
    assert backlog.attempt() is None


def test_without_a_thread_close_still_tries(monkeypatch: pytest.MonkeyPatch) -> None:
    # At interpreter shutdown no thread can start; the writer's close() makes the try.
    def refuse(thread: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    gate = Gate()
    backlog = Backlog(PATH, 30.0, 100, gate)
    backlog.hold([b"a\n"], ERROR)
    assert backlog._thread is None
    gate.open.set()
    assert backlog.close() == 0
    assert gate.data == b"a\n"

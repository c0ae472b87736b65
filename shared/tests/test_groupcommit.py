"""The group commit itself: leaders, followers, failures and interruptions."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from _fsync import FsyncCounter

import bgref_linelog._groupcommit
from bgref_linelog._groupcommit import GroupCommit


def test_waiters_covered_by_a_failed_fsync_get_the_error(
    fsync_counter: FsyncCounter, log_path: Path
) -> None:
    # Linux may drop the pages of a failed fsync: a later fsync's success must
    # not be reported for the writes the failed one covered.
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    fsync_counter.seconds = 0.1
    fsync_counter.failures = 1
    first, second = group.queue(b"x\n"), group.queue(b"x\n")
    errors: list[OSError] = []

    def sync(ticket: int) -> None:
        try:
            group.sync(fd, ticket)
        except OSError as error:
            errors.append(error)

    leader = threading.Thread(target=sync, args=(first,))
    leader.start()
    assert fsync_counter.entered.wait(10)  # the leader's failing fsync covers both writes
    follower = threading.Thread(target=sync, args=(second,))
    follower.start()
    leader.join()
    follower.join()
    assert [error.errno for error in errors] == [errno.EIO, errno.EIO]
    assert fsync_counter.calls == 1
    # A write after the failure is synced again.
    group.sync(fd, group.queue(b"x\n"))
    assert fsync_counter.calls == 2
    os.close(fd)


def test_async_waiter_not_covered_by_a_failed_fsync_retries(
    fsync_counter: FsyncCounter, log_path: Path
) -> None:
    fsync_counter.seconds = 0.1
    fsync_counter.failures = 1
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    async def main() -> tuple[BaseException | None, BaseException | None]:
        early = asyncio.ensure_future(group.async_sync(fd, group.queue(b"x\n")))
        while not fsync_counter.entered.is_set():  # its fsync is running, and will fail
            await asyncio.sleep(0.005)
        late = asyncio.ensure_future(group.async_sync(fd, group.queue(b"x\n")))
        return await asyncio.gather(early, late, return_exceptions=True)

    early, late = asyncio.run(main())
    assert isinstance(early, OSError)
    assert late is None
    assert fsync_counter.calls == 2
    os.close(fd)


def test_fsync_interrupted_by_another_exception(
    monkeypatch: pytest.MonkeyPatch, log_path: Path
) -> None:
    def broken(fd: int) -> None:
        raise RuntimeError("not an OS error")

    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    monkeypatch.setattr(os, "fsync", broken)
    covered = group.queue(b"covered\n")
    with pytest.raises(RuntimeError):
        group.sync(fd, group.queue(b"leader\n"))
    monkeypatch.undo()
    # The interrupted leader's batch is in doubt: its other writer gets an error.
    with pytest.raises(OSError, match="interrupted by RuntimeError"):
        group.sync(fd, covered)
    # The next caller leads.
    group.sync(fd, group.queue(b"next\n"))
    os.close(fd)


def test_failed_fsync_of_a_retired_file(monkeypatch: pytest.MonkeyPatch, log_path: Path) -> None:
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    retired = os.dup(fd)
    group.retire(retired)
    calls: list[int] = []
    real_fsync = os.fsync

    def fail_on_retired(descriptor: int) -> None:
        calls.append(descriptor)
        if descriptor == retired:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fail_on_retired)
    with pytest.raises(OSError, match="Input/output error"):
        group.sync(fd, group.queue(b"x\n"))
    assert calls == [fd, retired]
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(retired)
    os.close(fd)


def test_async_sync_of_an_already_synced_write(
    fsync_counter: FsyncCounter, log_path: Path
) -> None:
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    ticket = group.queue(b"x\n")
    group.sync(fd, ticket)  # a thread's fsync covered it already
    assert fsync_counter.calls == 1
    asyncio.run(group.async_sync(fd, ticket))
    # Covered: no second fsync, and the line was written once.
    assert fsync_counter.calls == 1
    assert log_path.read_bytes() == b"x\n"
    os.close(fd)


def test_a_lost_write_stays_lost_after_a_later_fsync(
    fsync_counter: FsyncCounter, log_path: Path
) -> None:
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    lost = group.queue(b"x\n")
    fsync_counter.failures = 1
    with pytest.raises(OSError, match="Input/output error"):
        group.sync(fd, lost)
    group.sync(fd, group.queue(b"x\n"))
    # A waiter of the failed fsync that wakes only now still gets the error.
    with pytest.raises(OSError, match="Input/output error"):
        group.sync(fd, lost)
    fsync_counter.failures = 1
    with pytest.raises(OSError, match="Input/output error"):
        group.sync(fd, group.queue(b"x\n"))
    assert group._lost_from == 0  # the ranges of both failures are kept
    os.close(fd)


class Interrupted(BaseException):
    """Stands in for KeyboardInterrupt, which pytest would take for itself."""


def test_leader_interrupted_while_gathering_hands_over(log_path: Path) -> None:
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    group.sync(fd, group.queue(b"x\n"))
    group._fsync_seconds, group._batch = 1.0, 5  # the next leader gathers

    class Raising:
        def wait(self, timeout: float) -> bool:
            raise Interrupted

    real_gathered, group._gathered = group._gathered, Raising()  # type: ignore[assignment]
    with pytest.raises(Interrupted):
        group.commit(fd, b"x\n")
    group._gathered = real_gathered
    group._batch = 1
    assert not group._leading
    group.commit(fd, b"x\n")
    os.close(fd)


def test_leader_waits_for_the_writers_of_the_last_batch(
    monkeypatch: pytest.MonkeyPatch, log_path: Path
) -> None:
    monkeypatch.setattr(bgref_linelog._groupcommit, "_MAX_GATHER", 30.0)
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    group.sync(fd, group.queue(b"x\n"))
    group._fsync_seconds, group._batch = 30.0, 2
    late = threading.Timer(0.05, group.queue, args=(b"late\n",))
    late.start()
    start = time.monotonic()
    group.commit(fd, b"x\n")  # waits for the late write, then covers both
    assert time.monotonic() - start < 10
    late.join()
    assert group._batch == 2
    os.close(fd)


def test_leader_waits_only_briefly(log_path: Path) -> None:
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    group.sync(fd, group.queue(b"x\n"))
    group._fsync_seconds, group._batch = 30.0, 32  # nobody else is coming
    start = time.monotonic()
    group.commit(fd, b"x\n")
    assert time.monotonic() - start < 1
    assert group._batch == 1
    os.close(fd)


def _open(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)


def test_a_leader_writes_the_queued_lines_with_one_write(
    monkeypatch: pytest.MonkeyPatch, log_path: Path
) -> None:
    writes: list[bytes] = []
    real_write = os.write

    def counting(fd: int, data: bytes) -> int:
        writes.append(data)
        return real_write(fd, data)

    group, fd = GroupCommit(), _open(log_path)
    tickets = [group.queue(f"line {i}\n".encode()) for i in range(3)]
    monkeypatch.setattr(os, "write", counting)
    group.sync(fd, tickets[0])
    for ticket in tickets:  # covered by that one fsync already
        group.sync(fd, ticket)
    assert writes == [b"line 0\nline 1\nline 2\n"]
    os.close(fd)


def test_a_short_write_is_finished(monkeypatch: pytest.MonkeyPatch, log_path: Path) -> None:
    real_write = os.write

    def short(fd: int, data: bytes) -> int:
        return real_write(fd, data[:3])

    group, fd = GroupCommit(), _open(log_path)
    monkeypatch.setattr(os, "write", short)
    group.commit(fd, b"a line longer than three bytes\n")
    os.close(fd)
    assert log_path.read_bytes() == b"a line longer than three bytes\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failed_write_reaches_every_writer_of_the_batch() -> None:
    group = GroupCommit()
    fd = os.open("/dev/full", os.O_WRONLY)
    covered = group.queue(b"covered\n")
    with pytest.raises(OSError, match="No space left on device") as leader:
        group.commit(fd, b"leader\n")
    with pytest.raises(OSError, match="No space left on device") as follower:
        group.sync(fd, covered)
    assert leader.value.errno == follower.value.errno == errno.ENOSPC
    os.close(fd)


class Victim:
    """Makes the lock of the first follower parked by a thread named "victim".

    Its sleep is interrupted, as a signal handler in the main thread would,
    either before or just after a leader wakes it.
    """

    def __init__(self, after_wake: bool) -> None:
        self.after_wake = after_wake
        self.armed = True

    def __call__(self) -> threading.Lock:
        if threading.current_thread().name != "victim" or not self.armed:
            return threading.Lock()
        self.armed = False
        return _InterruptedLock(self.after_wake)  # type: ignore[return-value]


class _InterruptedLock:
    def __init__(self, after_wake: bool) -> None:
        self._lock = threading.Lock()
        self._after_wake = after_wake
        self._acquired = 0

    def acquire(self) -> bool:
        self._acquired += 1
        if self._acquired == 1:  # taken when the follower is made
            return self._lock.acquire()
        if self._after_wake:
            self._lock.acquire()
        raise Interrupted

    def release(self) -> None:
        self._lock.release()


class Writers:
    """Threads that commit one line each and record how they ended."""

    def __init__(self, group: GroupCommit, fd: int) -> None:
        self.group, self.fd = group, fd
        self.threads: list[threading.Thread] = []
        self.ended: dict[str, str] = {}

    def start(self, name: str) -> threading.Thread:
        """Start a thread named ``name`` that commits the line ``name``."""

        def run() -> None:
            try:
                self.group.commit(self.fd, f"{name}\n".encode())
            except Interrupted:
                self.ended[name] = "interrupted"
            else:
                self.ended[name] = "synced"

        thread = threading.Thread(target=run, name=name)
        self.threads.append(thread)
        thread.start()
        return thread

    def join(self) -> None:
        """Wait for every thread; a hung one fails the test."""
        for thread in self.threads:
            thread.join(10)
            assert not thread.is_alive(), f"{thread.name} is stuck"
        os.close(self.fd)


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def _held_leader(fsync_counter: FsyncCounter, log_path: Path) -> tuple[Writers, threading.Event]:
    """Writers on a new group, the first ("leader") in an fsync held until the gate opens."""
    writers = Writers(GroupCommit(), _open(log_path))
    gate = fsync_counter.gate = threading.Event()
    writers.start("leader")
    assert fsync_counter.entered.wait(10)
    return writers, gate


def test_a_follower_interrupted_while_asleep_leaves_the_queue(
    monkeypatch: pytest.MonkeyPatch, fsync_counter: FsyncCounter, log_path: Path
) -> None:
    monkeypatch.setattr(bgref_linelog._groupcommit, "_new_lock", Victim(after_wake=False))
    writers, gate = _held_leader(fsync_counter, log_path)
    writers.start("victim").join(10)
    writers.start("follower")
    _wait_for(lambda: len(writers.group._parked) == 1)
    gate.set()
    writers.join()
    assert writers.ended == {"leader": "synced", "victim": "interrupted", "follower": "synced"}
    # A queued line is written even if its writer stopped waiting.
    assert sorted(log_path.read_text().split()) == ["follower", "leader", "victim"]


def test_a_follower_woken_to_lead_and_interrupted_hands_the_lead_on(
    monkeypatch: pytest.MonkeyPatch, fsync_counter: FsyncCounter, log_path: Path
) -> None:
    monkeypatch.setattr(bgref_linelog._groupcommit, "_new_lock", Victim(after_wake=True))
    writers, gate = _held_leader(fsync_counter, log_path)
    for name in ("victim", "follower"):
        writers.start(name)
        _wait_for(lambda: len(writers.group._parked) == len(writers.threads) - 1)
    gate.set()  # the leader covers neither, and wakes the victim to lead
    writers.join()
    assert writers.ended == {"leader": "synced", "victim": "interrupted", "follower": "synced"}


def test_a_covered_follower_interrupted_on_waking_wakes_the_next(
    monkeypatch: pytest.MonkeyPatch, fsync_counter: FsyncCounter, log_path: Path
) -> None:
    monkeypatch.setattr(bgref_linelog._groupcommit, "_MAX_GATHER", 30.0)
    monkeypatch.setattr(bgref_linelog._groupcommit, "_new_lock", Victim(after_wake=True))
    group = GroupCommit()
    writers = Writers(group, _open(log_path))
    group.commit(writers.fd, b"opened\n")
    # The next leader gathers four lines: its own and three followers'.
    group._fsync_seconds, group._batch = 30.0, 4
    writers.start("leader")
    _wait_for(lambda: group._leading)
    for name in ("victim", "second", "third"):  # the victim is first in the chain
        writers.start(name)
        _wait_for(lambda: len(group._parked) == len(writers.threads) - 1)
    writers.join()
    assert writers.ended == {
        "leader": "synced",
        "victim": "interrupted",
        "second": "synced",
        "third": "synced",
    }
    assert fsync_counter.calls == 2

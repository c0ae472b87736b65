"""The fsync mode and its group commit, for threads and coroutines."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
import time
from pathlib import Path

import pytest

import linelog._groupcommit
from linelog import LogWriteError, LogWriter, read_messages
from linelog._groupcommit import GroupCommit


class FsyncCounter:
    """Stands in for os.fsync: counts calls, makes each one take a while, fails on demand."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0
        self.failures = 0
        # Set when an fsync starts; while ``gate`` is given, fsyncs wait for it.
        self.entered = threading.Event()
        self.gate: threading.Event | None = None
        self._real = os.fsync

    def __call__(self, fd: int) -> None:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        time.sleep(self.seconds)
        if self.failures:
            self.failures -= 1
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        self._real(fd)


@pytest.fixture
def fsync_counter(monkeypatch: pytest.MonkeyPatch) -> FsyncCounter:
    """Count the fsync calls that the writer makes."""
    counter = FsyncCounter(seconds=0.005)
    monkeypatch.setattr(os, "fsync", counter)
    return counter


def test_single_writer_syncs_every_write(fsync_counter: FsyncCounter, log_path: Path) -> None:
    with LogWriter(log_path, fsync=True) as writer:
        for i in range(5):
            writer.write(f"m{i}")
    assert fsync_counter.calls == 5
    assert read_messages(log_path) == [f"m{i}" for i in range(5)]


def test_environment_turns_fsync_on(
    monkeypatch: pytest.MonkeyPatch, fsync_counter: FsyncCounter, log_path: Path
) -> None:
    monkeypatch.setenv("LOG_FSYNC", "1")
    with LogWriter(log_path) as writer:
        writer.write("durable")
    assert fsync_counter.calls == 1


def test_threads_share_fsyncs(fsync_counter: FsyncCounter, log_path: Path) -> None:
    threads, per_thread = 16, 20
    writer = LogWriter(log_path, fsync=True)
    barrier = threading.Barrier(threads)

    def work(index: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            writer.write(f"t{index}-{i}")

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    writer.close()
    written = threads * per_thread
    assert sorted(read_messages(log_path)) == sorted(
        f"t{t}-{i}" for t in range(threads) for i in range(per_thread)
    )
    # Each fsync takes 5 ms, long enough for the other threads to queue up.
    assert fsync_counter.calls < written / 4


def test_coroutines_share_fsyncs(fsync_counter: FsyncCounter, log_path: Path) -> None:
    tasks = 200

    async def main() -> None:
        with LogWriter(log_path, fsync=True) as writer:
            await asyncio.gather(*(writer.awrite(f"c{i}") for i in range(tasks)))
            await asyncio.gather(*(writer.awrite(f"d{i}") for i in range(tasks)))

    asyncio.run(main())
    assert len(read_messages(log_path)) == 2 * tasks
    assert fsync_counter.calls < 2 * tasks / 10


def test_fsync_error_reaches_the_writer_and_heals(
    fsync_counter: FsyncCounter, log_path: Path
) -> None:
    writer = LogWriter(log_path, fsync=True)
    fsync_counter.failures = 1
    with pytest.raises(LogWriteError, match=r"'.*log.txt': Input/output error"):
        writer.write("maybe lost")
    writer.write("durable")
    assert read_messages(log_path) == ["maybe lost", "durable"]
    writer.close()


def test_fsync_error_makes_a_follower_lead(fsync_counter: FsyncCounter, log_path: Path) -> None:
    fsync_counter.seconds = 0.1
    writer = LogWriter(log_path, fsync=True)
    writer.write("opened")
    errors: list[BaseException] = []
    fsync_counter.failures = 1

    def work(message: str) -> None:
        try:
            writer.write(message)
        except LogWriteError as error:
            errors.append(error)

    fsync_counter.entered.clear()
    leader = threading.Thread(target=work, args=("leader",))
    leader.start()
    assert fsync_counter.entered.wait(10)  # the leader is inside its (failing) fsync
    follower = threading.Thread(target=work, args=("follower",))
    follower.start()
    leader.join()
    follower.join()
    # Exactly one of them saw the failed fsync; the other ran its own.
    assert len(errors) == 1
    writer.close()


def test_async_fsync_error(fsync_counter: FsyncCounter, log_path: Path) -> None:
    fsync_counter.failures = 1

    async def main() -> None:
        with LogWriter(log_path, fsync=True) as writer:
            with pytest.raises(LogWriteError, match="Input/output error"):
                await writer.awrite("maybe lost")
            await writer.awrite("durable")

    asyncio.run(main())
    assert read_messages(log_path) == ["maybe lost", "durable"]


def test_cancelled_waiter_does_not_cancel_the_shared_fsync(
    fsync_counter: FsyncCounter, log_path: Path
) -> None:
    async def main() -> None:
        with LogWriter(log_path, fsync=True, reopen_check=60) as writer:
            await writer.awrite("opened")  # later writes need no executor to open
            fsync_counter.entered.clear()
            fsync_counter.gate = threading.Event()
            first = asyncio.ensure_future(writer.awrite("cancelled"))
            second = asyncio.ensure_future(writer.awrite("kept"))
            while not fsync_counter.entered.is_set():
                await asyncio.sleep(0.005)
            first.cancel()
            await asyncio.sleep(0)
            fsync_counter.gate.set()
            await second
            with pytest.raises(asyncio.CancelledError):
                await first

    asyncio.run(main())
    assert read_messages(log_path) == ["opened", "cancelled", "kept"]


def test_async_writes_from_two_loops(fsync_counter: FsyncCounter, log_path: Path) -> None:
    writer = LogWriter(log_path, fsync=True)

    async def burst(prefix: str) -> None:
        await asyncio.gather(*(writer.awrite(f"{prefix}{i}") for i in range(20)))

    def run(prefix: str) -> None:
        asyncio.run(burst(prefix))

    threads = [threading.Thread(target=run, args=(p,)) for p in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    asyncio.run(burst("c"))
    writer.close()
    assert len(read_messages(log_path)) == 60


def test_write_error_in_fsync_mode(log_path: Path) -> None:
    writer = LogWriter(log_path.parent, fsync=True)
    with pytest.raises(LogWriteError):
        writer.write("x")


def test_waiters_covered_by_a_failed_fsync_get_the_error(
    fsync_counter: FsyncCounter, log_path: Path
) -> None:
    # Linux may drop the pages of a failed fsync: a later fsync's success must
    # not be reported for the writes the failed one covered.
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    fsync_counter.seconds = 0.1
    fsync_counter.failures = 1
    first, second = group.ticket(), group.ticket()
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
    group.sync(fd, group.ticket())
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
        early = asyncio.ensure_future(group.async_sync(fd, group.ticket()))
        while not fsync_counter.entered.is_set():  # its fsync is running, and will fail
            await asyncio.sleep(0.005)
        late = asyncio.ensure_future(group.async_sync(fd, group.ticket()))
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
    with pytest.raises(RuntimeError):
        group.sync(fd, group.ticket())
    monkeypatch.undo()
    # Nothing was recorded as lost, and the next caller leads.
    group.sync(fd, group.ticket())
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
        group.sync(fd, group.ticket())
    assert calls == [fd, retired]
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(retired)
    os.close(fd)


def test_async_sync_of_an_already_synced_write(log_path: Path) -> None:
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    ticket = group.ticket()
    group.sync(fd, ticket)  # a thread's fsync covered it already
    asyncio.run(group.async_sync(fd, ticket))
    os.close(fd)


def test_async_fsync_interrupted_by_another_exception(
    monkeypatch: pytest.MonkeyPatch, log_path: Path
) -> None:
    def broken(fd: int) -> None:
        raise RuntimeError("not an OS error")

    monkeypatch.setattr(os, "fsync", broken)

    async def main() -> list[BaseException | None]:
        with LogWriter(log_path, fsync=True) as writer:
            return await asyncio.gather(
                *(writer.awrite(f"m{i}") for i in range(3)), return_exceptions=True
            )

    assert [type(result) for result in asyncio.run(main())] == [RuntimeError] * 3


def test_a_lost_write_stays_lost_after_a_later_fsync(
    fsync_counter: FsyncCounter, log_path: Path
) -> None:
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    lost = group.ticket()
    fsync_counter.failures = 1
    with pytest.raises(OSError, match="Input/output error"):
        group.sync(fd, lost)
    group.sync(fd, group.ticket())
    # A waiter of the failed fsync that wakes only now still gets the error.
    with pytest.raises(OSError, match="Input/output error"):
        group.sync(fd, lost)
    fsync_counter.failures = 1
    with pytest.raises(OSError, match="Input/output error"):
        group.sync(fd, group.ticket())
    assert group._lost_from == 0  # the ranges of both failures are kept
    os.close(fd)


class Interrupted(BaseException):
    """Stands in for KeyboardInterrupt, which pytest would take for itself."""


def test_leader_interrupted_while_gathering_hands_over(log_path: Path) -> None:
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    group.sync(fd, group.ticket())
    group._fsync_seconds, group._batch = 1.0, 5  # the next leader gathers

    class Raising:
        def wait(self, timeout: float) -> bool:
            raise Interrupted

    real_gathered, group._gathered = group._gathered, Raising()  # type: ignore[assignment]
    with pytest.raises(Interrupted):
        group.sync(fd)
    group._gathered = real_gathered
    group._batch = 1
    assert not group._leading
    group.sync(fd)
    os.close(fd)


def test_leader_waits_for_the_writers_of_the_last_batch(
    monkeypatch: pytest.MonkeyPatch, log_path: Path
) -> None:
    monkeypatch.setattr(linelog._groupcommit, "_MAX_GATHER", 30.0)
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    group.sync(fd, group.ticket())
    group._fsync_seconds, group._batch = 30.0, 2
    late = threading.Timer(0.05, group.ticket)
    late.start()
    start = time.monotonic()
    group.sync(fd)  # waits for the late write, then covers both
    assert time.monotonic() - start < 10
    late.join()
    assert group._batch == 2
    os.close(fd)


def test_leader_waits_only_briefly(log_path: Path) -> None:
    group = GroupCommit()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    group.sync(fd, group.ticket())
    group._fsync_seconds, group._batch = 30.0, 32  # nobody else is coming
    start = time.monotonic()
    group.sync(fd)
    assert time.monotonic() - start < 1
    assert group._batch == 1
    os.close(fd)

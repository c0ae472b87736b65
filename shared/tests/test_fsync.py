"""The fsync mode and its group commit, for threads and coroutines."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest
from _fsync import FsyncCounter

from bgref_linelog import LogWriteError, LogWriter, read_messages


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
    fsync_counter.seconds = 0.0
    writer = LogWriter(log_path, fsync=True)
    writer.write("opened")
    errors: list[str] = []
    fsync_counter.failures = 1

    def work(message: str) -> None:
        try:
            writer.write(message)
        except LogWriteError:
            errors.append(message)

    fsync_counter.entered.clear()
    fsync_counter.gate = threading.Event()
    leader = threading.Thread(target=work, args=("leader",))
    leader.start()
    assert fsync_counter.entered.wait(10)  # the leader is inside its (failing) fsync
    follower = threading.Thread(target=work, args=("follower",))
    follower.start()
    # The follower's line is queued while the leader's fsync still runs, so that
    # fsync cannot cover it: the follower must lead one of its own.
    deadline = time.monotonic() + 10
    while writer._group.pending < 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert writer._group.pending == 1
    fsync_counter.gate.set()
    leader.join()
    follower.join()
    assert errors == ["leader"]
    assert fsync_counter.calls == 3  # "opened", the leader's, the follower's own
    writer.close()
    assert read_messages(log_path) == ["opened", "leader", "follower"]


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


def test_async_fsync_interrupted_by_another_exception(
    monkeypatch: pytest.MonkeyPatch, log_path: Path
) -> None:
    def broken(fd: int) -> None:
        raise RuntimeError("not an OS error")

    monkeypatch.setattr(os, "fsync", broken)
    writer = LogWriter(log_path, fsync=True)

    async def main() -> list[BaseException | None]:
        return await asyncio.gather(
            *(writer.awrite(f"m{i}") for i in range(3)), return_exceptions=True
        )

    assert [type(result) for result in asyncio.run(main())] == [RuntimeError] * 3
    monkeypatch.undo()
    writer.close()  # writes what the broken flight left queued
    assert sorted(read_messages(log_path)) == ["m0", "m1", "m2"]


def test_close_writes_the_line_of_a_cancelled_waiter(
    fsync_counter: FsyncCounter, log_path: Path
) -> None:
    async def main(writer: LogWriter) -> None:
        await writer.awrite("opened")
        fsync_counter.entered.clear()
        fsync_counter.gate = threading.Event()
        first = asyncio.ensure_future(writer.awrite("first"))
        while not fsync_counter.entered.is_set():  # the first fsync took only "first"
            await asyncio.sleep(0.005)
        cancelled = asyncio.ensure_future(writer.awrite("cancelled"))
        await asyncio.sleep(0)  # queued
        cancelled.cancel()
        fsync_counter.gate.set()
        await first

    writer = LogWriter(log_path, fsync=True)
    asyncio.run(main(writer))
    assert read_messages(log_path) == ["opened", "first"]
    writer.close()
    assert read_messages(log_path) == ["opened", "first", "cancelled"]
    assert fsync_counter.calls == 3


def test_close_logs_queued_lines_it_cannot_write(
    fsync_counter: FsyncCounter, log_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = LogWriter(log_path, fsync=True)
    writer.write("opened")
    writer._group.queue(b"orphan\n")  # as a writer that stopped waiting leaves it
    fsync_counter.failures = 1
    writer.close()
    assert "1 queued lines were not written" in caplog.text
    assert "Input/output error" in caplog.text
    assert str(log_path) in caplog.text

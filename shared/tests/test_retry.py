"""write_soon and awrite_soon ride out a path that fails for a while, in order, within bounds."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bgref_linelog._backlog
import bgref_linelog._writer
from bgref_linelog import LogWriteError, LogWriter, read_messages
from bgref_linelog._writer import _write_held_by

DEADLINE = 30.0


def _until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` until it holds, failing after DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.005)


def _block(log_path: Path) -> Callable[[], None]:
    """Put a directory where the log goes; return what removes it."""
    log_path.mkdir()
    return log_path.rmdir


def test_write_soon_holds_lines_and_writes_them_in_order_once_the_path_is_back(
    log_path: Path,
) -> None:
    with LogWriter(log_path) as writer:
        unblock = _block(log_path)
        writer.write_soon("a")  # fails: held, no exception
        writer.write_soon("b")  # queued behind "a"
        assert writer.held == 2
        unblock()
        _until(lambda: writer.held == 0)
        writer.write_soon("c")
        assert read_messages(log_path) == ["a", "b", "c"]
        assert writer.lost == 0


def test_awrite_soon_holds_batches_in_order(log_path: Path) -> None:
    async def main(writer: LogWriter) -> None:
        unblock = _block(log_path)
        await asyncio.gather(writer.awrite_soon("a"), writer.awrite_soon("b"))
        await asyncio.sleep(0)
        assert writer.held == 2
        await writer.awrite_soon("c")
        await asyncio.sleep(0)
        assert writer.held == 3
        unblock()
        while writer.held:
            await asyncio.sleep(0.005)  # the loop keeps running during the retries
        await writer.awrite_soon("d")

    with LogWriter(log_path) as writer:
        asyncio.run(main(writer))
    assert read_messages(log_path) == ["a", "b", "c", "d"]


def test_write_and_awrite_write_held_lines_first(log_path: Path) -> None:
    with LogWriter(log_path) as writer:
        unblock = _block(log_path)
        writer.write_soon("held")
        with pytest.raises(LogWriteError, match="Is a directory"):
            writer.write("fails too")
        unblock()
        writer.write("after")
        assert read_messages(log_path) == ["held", "after"]

    other = log_path.with_name("other.txt")
    with LogWriter(other) as writer:
        unblock = _block(other)
        writer.write_soon("held")
        unblock()
        asyncio.run(writer.awrite("after"))
        assert read_messages(other) == ["held", "after"]


def test_awrite_writes_the_held_lines_before_its_own(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The background retry must not win the race: after its first failed try it
    # sleeps until the held line would expire, so awrite finds the line held.
    monkeypatch.setattr(bgref_linelog._backlog, "_FIRST_DELAY", 3600.0)
    monkeypatch.setattr(bgref_linelog._backlog, "_MAX_DELAY", 3600.0)
    with LogWriter(log_path, retry_seconds=600.0) as writer:
        unblock = _block(log_path)
        writer.write_soon("held")
        _until(lambda: writer._backlog._attempts >= 1)
        unblock()
        assert writer.held == 1
        asyncio.run(writer.awrite("after"))
        assert writer.held == 0
    assert read_messages(log_path) == ["held", "after"]


def test_errors_that_cannot_pass_are_not_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / ("x" * 300)  # ENAMETOOLONG: the name will not get shorter
    with LogWriter(path) as writer:
        with pytest.raises(LogWriteError, match="File name too long"):
            writer.write_soon("a")

        async def main() -> None:
            await writer.awrite_soon("b")
            await asyncio.sleep(0)

        with caplog.at_level(logging.ERROR, logger="bgref_linelog"):
            asyncio.run(main())
        assert caplog.records[-1].getMessage() == "1 queued lines were not written"
        assert writer.held == 0


SETTINGS = [{"fsync": True}, {"retry_lines": 0}, {"retry_seconds": 0.0}]


@pytest.mark.parametrize("settings", SETTINGS)
def test_with_fsync_or_a_zero_bound_write_soon_is_write(
    log_path: Path, settings: dict[str, Any]
) -> None:
    writer = LogWriter(log_path, **settings)
    unblock = _block(log_path)
    with pytest.raises(LogWriteError):
        writer.write_soon("x")
    assert writer.held == 0
    unblock()
    writer.write_soon("kept")
    writer.close()
    assert read_messages(log_path) == ["kept"]


def test_the_delay_is_slept_before_the_write(log_path: Path) -> None:
    with LogWriter(log_path, delay_ms=1) as writer:
        writer.write_soon("a")
    assert read_messages(log_path) == ["a"]


def test_lines_beyond_the_bound_are_counted_and_reported_at_close(
    log_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = LogWriter(log_path, retry_lines=2)
    _block(log_path)
    with caplog.at_level(logging.WARNING, logger="bgref_linelog"):
        for message in "abc":
            writer.write_soon(message)
        assert (writer.held, writer.lost) == (2, 1)
        writer.close()
    assert (writer.held, writer.lost) == (0, 3)
    assert caplog.records[0].getMessage().startswith(f"cannot write {log_path}; holding lines")
    assert caplog.records[-1].getMessage() == (
        f"3 lines not written to {log_path}: beyond the retry bound (10 s, 2 lines),"
        " or still failing at close()"
    )


def test_close_writes_held_lines_if_the_path_is_back(log_path: Path) -> None:
    writer = LogWriter(log_path)
    unblock = _block(log_path)
    writer.write_soon("a")
    unblock()
    writer.close()
    assert read_messages(log_path) == ["a"]
    assert writer.held == 0


def test_held_lines_stay_with_the_parent_after_a_fork(log_path: Path) -> None:
    with LogWriter(log_path) as writer:
        unblock = _block(log_path)
        writer.write_soon("parent")
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            os.write(write, str(writer.held).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            assert pipe.read() == "0"
        os.waitpid(pid, 0)
        unblock()
    assert read_messages(log_path) == ["parent"]


def test_a_collected_writer_writes_nothing(log_path: Path) -> None:
    writer = LogWriter(log_path)
    write = _write_held_by(writer)
    assert write(b"a\n") == 2
    del writer
    gc.collect()
    assert write(b"b\n") == 0
    assert read_messages(log_path) == ["a"]


def test_threads_keep_their_lines_and_order_through_an_outage(log_path: Path) -> None:
    # 4 threads x 200 lines; the path is a directory until 100 lines are held.
    with LogWriter(log_path, reopen_check=0) as writer:
        unblock = _block(log_path)

        def work(name: int) -> None:
            for i in range(200):
                writer.write_soon(f"t{name}-{i}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        _until(lambda: writer.held >= 100)
        unblock()
        for thread in threads:
            thread.join()
        _until(lambda: writer.held == 0)
    messages = read_messages(log_path)
    assert sorted(messages) == sorted(f"t{n}-{i}" for n in range(4) for i in range(200))
    for n in range(4):
        assert [m for m in messages if m.startswith(f"t{n}-")] == [f"t{n}-{i}" for i in range(200)]
    assert writer.lost == 0


def _failing_once(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Make the writer's next os.write fail with ``code``, as a disk or a device would."""
    real = bgref_linelog._writer._os_write
    calls = [0]

    def write(fd: int, data: bytes) -> int:
        calls[0] += 1
        if calls[0] == 1:
            raise OSError(code, os.strerror(code))
        return real(fd, data)

    monkeypatch.setattr(bgref_linelog._writer, "_os_write", write)


def test_a_write_that_fails_whole_is_held(log_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with LogWriter(log_path) as writer:
        writer.write_soon("opens the file")
        _failing_once(monkeypatch, errno.ENOSPC)
        writer.write_soon("held")
        _until(lambda: writer.held == 0)
    assert read_messages(log_path) == ["opens the file", "held"]


def test_a_write_error_that_cannot_pass_is_raised(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LogWriter(log_path) as writer:
        writer.write_soon("opens the file")
        _failing_once(monkeypatch, errno.EFBIG)
        with pytest.raises(LogWriteError, match="File too large") as info:
            writer.write_soon("too big")
        assert isinstance(info.value.__cause__, OSError)
        assert writer.held == 0


def test_a_short_write_is_finished(log_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = bgref_linelog._writer._os_write
    monkeypatch.setattr(bgref_linelog._writer, "_os_write", lambda fd, data: real(fd, data[:3]))
    with LogWriter(log_path) as writer:
        writer.write_soon("written in pieces")
    assert read_messages(log_path) == ["written in pieces"]

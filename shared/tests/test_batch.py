"""LogWriter.awrite_soon: the lines of one event-loop iteration share one system call."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

import bgref_linelog._writer
from bgref_linelog import LogWriter, read_messages


def _count_writes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record every os.write the writer makes."""
    calls: list[bytes] = []
    real = bgref_linelog._writer._os_write

    def write(fd: int, data: bytes) -> int:
        calls.append(bytes(data))
        return real(fd, data)

    monkeypatch.setattr(bgref_linelog._writer, "_os_write", write)
    return calls


def test_one_iteration_is_one_write(monkeypatch: pytest.MonkeyPatch, log_path: Path) -> None:
    calls = _count_writes(monkeypatch)
    messages = [f"m{i}\nsplit" if i % 7 == 0 else f"m{i}" for i in range(100)]

    async def main() -> None:
        with LogWriter(log_path) as writer:
            await asyncio.gather(*(writer.awrite_soon(m) for m in messages))
            await asyncio.sleep(0)
            assert read_messages(log_path) == messages
            # A later iteration is a new batch.
            await writer.awrite_soon("later")
            await asyncio.sleep(0)

    asyncio.run(main())
    assert len(calls) == 2
    assert read_messages(log_path) == [*messages, "later"]


def test_returns_before_the_write(log_path: Path) -> None:
    async def main() -> None:
        with LogWriter(log_path) as writer:
            await writer.awrite_soon("queued")
            assert not log_path.exists()
            await asyncio.sleep(0)
            assert read_messages(log_path) == ["queued"]

    asyncio.run(main())


def test_close_writes_what_is_queued(log_path: Path) -> None:
    async def main() -> None:
        writer = LogWriter(log_path)
        await writer.awrite_soon("one")
        await writer.awrite_soon("two")
        writer.close()
        assert read_messages(log_path) == ["one", "two"]
        # The flush scheduled by the first line finds nothing left to write.
        await asyncio.sleep(0)

    asyncio.run(main())
    assert read_messages(log_path) == ["one", "two"]


def test_a_failure_is_logged_with_path_and_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_path = tmp_path / "missing" / "log.txt"

    async def main() -> None:
        # Without the retry (test_retry.py covers it), the failed batch is dropped and logged.
        with LogWriter(log_path, retry_seconds=0) as writer:
            await asyncio.gather(writer.awrite_soon("a"), writer.awrite_soon("b"))
            await asyncio.sleep(0)
            log_path.parent.mkdir()
            await writer.awrite_soon("c")
            await asyncio.sleep(0)

    with caplog.at_level(logging.ERROR, logger="bgref_linelog"):
        asyncio.run(main())
    [record] = caplog.records
    assert record.getMessage() == "2 queued lines were not written"
    assert record.exc_info is not None
    assert str(log_path) in str(record.exc_info[1])
    assert read_messages(log_path) == ["c"]


def test_delay_is_awaited(log_path: Path) -> None:
    async def main() -> float:
        with LogWriter(log_path, delay_ms=100) as writer:
            start = time.perf_counter()
            await asyncio.gather(*(writer.awrite_soon(f"m{i}") for i in range(10)))
            return time.perf_counter() - start

    elapsed = asyncio.run(main())
    # The ten delays overlap: concurrent, not one after another.
    assert 0.1 <= elapsed < 0.9
    assert sorted(read_messages(log_path)) == sorted(f"m{i}" for i in range(10))


def test_fsync_mode_writes_before_returning(log_path: Path) -> None:
    async def main() -> None:
        with LogWriter(log_path, fsync=True) as writer:
            await writer.awrite_soon("synced")
            assert read_messages(log_path) == ["synced"]

    asyncio.run(main())


def test_a_rotated_file_is_noticed(tmp_path: Path) -> None:
    log_path = tmp_path / "log.txt"
    rotated = tmp_path / "log.txt.1"

    async def main() -> None:
        # No timing: reopen_check is long, and the test moves the next check
        # to now (the batch path reads the clock, not the ticker) when it
        # wants one, so that a busy machine cannot shift a batch across it.
        with LogWriter(log_path, reopen_check=60) as writer:
            await writer.awrite_soon("before")
            await asyncio.sleep(0)
            writer._batch_check_at = 0.0
            # Checked again, and still the same file.
            await writer.awrite_soon("still")
            await asyncio.sleep(0)
            log_path.rename(rotated)
            # Within reopen_check the batch goes to the open (moved) file.
            await writer.awrite_soon("in between")
            await asyncio.sleep(0)
            writer._batch_check_at = 0.0
            await writer.awrite_soon("after")
            await asyncio.sleep(0)

    asyncio.run(main())
    assert read_messages(rotated) == ["before", "still", "in between"]
    assert read_messages(log_path) == ["after"]


def test_a_closed_writer_opens_again(log_path: Path) -> None:
    async def main() -> None:
        writer = LogWriter(log_path, reopen_check=60)
        await writer.awrite_soon("one")
        await asyncio.sleep(0)
        writer.close()
        await writer.awrite_soon("two\u2028three\ud800")
        await asyncio.sleep(0)
        writer.close()

    asyncio.run(main())
    assert read_messages(log_path) == ["one", "two\u2028three\ud800"]

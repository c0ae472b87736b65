"""LogWriter.awrite: the event loop keeps running while a write waits."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from bgref_linelog import LogWriter, read_messages


def _lines(path: Path) -> list[str]:
    return read_messages(path) if path.exists() else []


def test_awrite_writes_one_line(log_path: Path) -> None:
    async def main() -> None:
        with LogWriter(log_path) as writer:
            await writer.awrite("async\nmessage")
            await writer.awrite("plain")

    asyncio.run(main())
    assert read_messages(log_path) == ["async\nmessage", "plain"]


def test_delay_does_not_block_the_loop(log_path: Path) -> None:
    async def main() -> tuple[list[str], float]:
        writer = LogWriter(log_path, delay_ms=500)
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        work = asyncio.gather(*(writer.awrite(f"m{i}") for i in range(20)))
        # Runs right after the first step of each write: one that slept on the
        # loop would have written its line by then.
        seen: asyncio.Future[list[str]] = loop.create_future()
        loop.call_soon(lambda: seen.set_result(_lines(log_path)))
        early = await seen
        await work
        writer.close()
        return early, time.perf_counter() - start

    early, elapsed = asyncio.run(main())
    assert early == []
    # Blocking sleeps would take 10 s one after another; together they take 0.5 s.
    assert elapsed < 5.0
    assert sorted(read_messages(log_path)) == sorted(f"m{i}" for i in range(20))


def test_fsync_does_not_block_the_loop(monkeypatch: pytest.MonkeyPatch, log_path: Path) -> None:
    real_fsync = os.fsync
    # Each fsync waits until a coroutine on the loop lets it go: an fsync that
    # ran on the loop would wait out the timeout instead.
    released = threading.Event()
    stuck: list[int] = []

    def gated_fsync(fd: int) -> None:
        if not released.wait(10):
            stuck.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", gated_fsync)

    async def main() -> None:
        with LogWriter(log_path, fsync=True) as writer:
            work = asyncio.gather(*(writer.awrite(f"m{i}") for i in range(50)))
            await asyncio.sleep(0)
            released.set()
            await work

    asyncio.run(main())
    assert stuck == []
    assert len(read_messages(log_path)) == 50

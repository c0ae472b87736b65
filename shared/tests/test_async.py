"""LogWriter.awrite: the event loop keeps running while a write waits."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from linelog import LogWriter, read_messages


async def _max_loop_lag(work: asyncio.Future[list[None]]) -> float:
    """Return the longest time the loop was unavailable while ``work`` ran."""
    lag = 0.0
    while not work.done():
        start = time.perf_counter()
        await asyncio.sleep(0.005)
        lag = max(lag, time.perf_counter() - start - 0.005)
    await work
    return lag


def test_awrite_writes_one_line(log_path: Path) -> None:
    async def main() -> None:
        with LogWriter(log_path) as writer:
            await writer.awrite("async\nmessage")
            await writer.awrite("plain")

    asyncio.run(main())
    assert read_messages(log_path) == ["async\nmessage", "plain"]


def test_delay_does_not_block_the_loop(log_path: Path) -> None:
    async def main() -> tuple[float, float]:
        writer = LogWriter(log_path, delay_ms=500)
        start = time.perf_counter()
        work = asyncio.gather(*(writer.awrite(f"m{i}") for i in range(20)))
        lag = await _max_loop_lag(work)
        writer.close()
        return lag, time.perf_counter() - start

    lag, elapsed = asyncio.run(main())
    # Blocking sleeps would take 10 s and stall the loop for 500 ms at a time;
    # the bounds are loose for a busy machine.
    assert elapsed < 3.0
    assert lag < 0.35
    assert sorted(read_messages(log_path)) == sorted(f"m{i}" for i in range(20))


def test_fsync_does_not_block_the_loop(monkeypatch: pytest.MonkeyPatch, log_path: Path) -> None:
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        time.sleep(0.5)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)

    async def main() -> float:
        with LogWriter(log_path, fsync=True) as writer:
            work = asyncio.gather(*(writer.awrite(f"m{i}") for i in range(50)))
            return await _max_loop_lag(work)

    # A blocking fsync would stall the loop for 500 ms.
    assert asyncio.run(main()) < 0.35
    assert len(read_messages(log_path)) == 50

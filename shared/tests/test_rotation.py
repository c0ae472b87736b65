"""Log rotation: the writer notices a moved, deleted or replaced file and reopens the path."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import bgref_linelog._writer
from bgref_linelog import LogWriter, read_messages


def _wait_for_check(writer: LogWriter) -> None:
    """Wait until the writer's rotation window has passed and its next write checks."""
    time.sleep(writer.reopen_check)
    # On a busy machine the timer thread may run late: wait for it, not a fixed time.
    deadline = time.monotonic() + 10
    while not writer._due and time.monotonic() < deadline:
        time.sleep(0.005)


def test_rename(log_path: Path) -> None:
    writer = LogWriter(log_path, reopen_check=0.02)
    writer.write("one")
    log_path.rename(log_path.with_suffix(".1"))
    _wait_for_check(writer)
    writer.write("two")
    assert read_messages(log_path.with_suffix(".1")) == ["one"]
    assert read_messages(log_path) == ["two"]
    writer.close()


def test_delete(log_path: Path) -> None:
    writer = LogWriter(log_path, reopen_check=0.02)
    writer.write("one")
    log_path.unlink()
    _wait_for_check(writer)
    writer.write("two")
    assert read_messages(log_path) == ["two"]
    writer.close()


def test_replaced_by_another_file(log_path: Path) -> None:
    writer = LogWriter(log_path, reopen_check=0.02)
    writer.write("one")
    replacement = log_path.with_suffix(".new")
    replacement.write_text("fresh\n", encoding="utf-8")
    os.replace(replacement, log_path)
    _wait_for_check(writer)
    writer.write("two")
    assert read_messages(log_path) == ["fresh", "two"]
    writer.close()


def test_unchanged_file_is_kept(log_path: Path) -> None:
    writer = LogWriter(log_path, reopen_check=0.02)
    writer.write("one")
    _wait_for_check(writer)
    writer.write("two")
    assert read_messages(log_path) == ["one", "two"]
    writer.close()


def test_reopen_check_zero_checks_every_write(log_path: Path) -> None:
    writer = LogWriter(log_path, reopen_check=0)
    for i in range(3):
        writer.write(f"line {i}")
        log_path.rename(log_path.with_suffix(f".{i}"))
    assert [read_messages(log_path.with_suffix(f".{i}")) for i in range(3)] == [
        ["line 0"],
        ["line 1"],
        ["line 2"],
    ]
    writer.close()


def test_descriptor_number_survives_reopening(log_path: Path) -> None:
    # Threads that read the descriptor before a reopen must never write into
    # a closed or reused one, so the reopen keeps the number.
    writer = LogWriter(log_path, reopen_check=0)
    writer.write("one")
    fd = writer._fd
    log_path.unlink()
    writer.write("two")
    assert writer._fd == fd
    assert os.get_inheritable(fd) is False
    writer.close()


def test_fsync_mode_syncs_the_old_file_too(
    monkeypatch: pytest.MonkeyPatch, log_path: Path
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    writer = LogWriter(log_path, fsync=True, reopen_check=0)
    writer.write("one")
    old = log_path.stat().st_ino
    log_path.rename(log_path.with_suffix(".1"))
    writer.write("two")
    new = log_path.stat().st_ino
    # A line written to the old file just before the reopen is covered too.
    assert synced == [old, new, old]
    writer.close()


def test_close_releases_a_retired_file(log_path: Path) -> None:
    writer = LogWriter(log_path, fsync=True)
    writer.write("one")
    retired = os.dup(writer._fd)
    writer._group.retire(retired)
    writer.close()
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(retired)


def test_without_a_ticker_thread_every_write_checks(
    monkeypatch: pytest.MonkeyPatch, log_path: Path
) -> None:
    monkeypatch.setattr(bgref_linelog._writer._TICKER, "schedule", lambda target, delay: False)
    writer = LogWriter(log_path)
    writer.write("one")
    log_path.rename(log_path.with_suffix(".1"))
    writer.write("two")
    assert read_messages(log_path) == ["two"]
    writer.close()


def test_check_already_done_by_another_thread(log_path: Path) -> None:
    # Threads that found a check due queue on the lock; the first one does it.
    writer = LogWriter(log_path, reopen_check=60)
    writer.write("one")
    assert not writer._due
    assert writer._check() == writer._fd
    writer.close()

"""Errors name the path, are never silent, and heal when the path does."""

from __future__ import annotations

import asyncio
import errno
import os
import pickle
import shutil
from pathlib import Path

import pytest

import bgref_linelog._writer
from bgref_linelog import LogWriteError, LogWriter, read_messages


def test_error_type_and_message() -> None:
    error = LogWriteError(errno.EISDIR, "Is a directory", "/x/log.txt")
    assert isinstance(error, OSError)
    assert str(error) == "cannot write log file '/x/log.txt': Is a directory"
    assert (error.errno, error.filename) == (errno.EISDIR, "/x/log.txt")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy)) == (LogWriteError, str(error))
    assert str(LogWriteError.from_os_error("/y", OSError("odd"))) == (
        "cannot write log file '/y': unknown error"
    )


def test_directory(tmp_path: Path) -> None:
    writer = LogWriter(tmp_path)
    with pytest.raises(LogWriteError, match=r"cannot write log file '.*': Is a directory") as info:
        writer.write("x")
    assert info.value.errno == errno.EISDIR
    assert info.value.filename == str(tmp_path)
    assert isinstance(info.value.__cause__, IsADirectoryError)


def test_missing_folder_then_created(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "log.txt"
    writer = LogWriter(path)
    with pytest.raises(LogWriteError, match="No such file or directory") as info:
        writer.write("lost")
    assert info.value.filename == str(path)
    path.parent.mkdir()
    writer.write("kept")
    assert read_messages(path) == ["kept"]
    writer.close()


def test_a_file_in_the_way_then_removed(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("")
    path = tmp_path / "blocker" / "log.txt"
    writer = LogWriter(path)
    with pytest.raises(LogWriteError, match="Not a directory"):
        writer.write("lost")
    (tmp_path / "blocker").unlink()
    (tmp_path / "blocker").mkdir()
    writer.write("kept")
    assert read_messages(path) == ["kept"]
    writer.close()


def test_directory_then_replaced_by_a_file(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.mkdir()
    writer = LogWriter(path)
    with pytest.raises(LogWriteError):
        writer.write("lost")
    path.rmdir()
    writer.write("kept")
    assert read_messages(path) == ["kept"]
    writer.close()


def test_permission_denied(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # Root ignores file modes; sysfs refuses to create files even for root.
        path = Path("/sys/linelog-test.txt")
    else:
        folder = tmp_path / "read-only"
        folder.mkdir(mode=0o555)
        path = folder / "log.txt"
    with pytest.raises(LogWriteError, match=str(path)) as info:
        LogWriter(path).write("x")
    assert info.value.errno in (errno.EACCES, errno.EPERM, errno.EROFS)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("fsync", [False, True], ids=["default", "fsync"])
def test_full_disk(fsync: bool) -> None:
    writer = LogWriter("/dev/full", fsync=fsync)
    for _ in range(2):
        with pytest.raises(LogWriteError, match="'/dev/full': No space left on device"):
            writer.write("x")

    async def main() -> None:
        with pytest.raises(LogWriteError, match="'/dev/full': No space left on device"):
            await writer.awrite("x")

    asyncio.run(main())
    writer.close()


def test_full_disk_recovers(monkeypatch: pytest.MonkeyPatch, log_path: Path) -> None:
    real_write = os.write
    full = True

    def write(fd: int, data: bytes) -> int:
        if full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    writer = LogWriter(log_path)
    writer.write("before")
    monkeypatch.setattr(bgref_linelog._writer, "_os_write", write)
    with pytest.raises(LogWriteError, match="No space left on device"):
        writer.write("lost")
    with pytest.raises(LogWriteError):
        writer.write("lost again")
    full = False
    writer.write("after")
    writer.write("and on")
    assert read_messages(log_path) == ["before", "after", "and on"]
    writer.close()


def test_short_writes_complete_the_line(monkeypatch: pytest.MonkeyPatch, log_path: Path) -> None:
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        return real_write(fd, data[:3])

    writer = LogWriter(log_path)
    writer.write("opened")
    monkeypatch.setattr(bgref_linelog._writer, "_os_write", write)
    writer.write("a message written three bytes at a time")
    writer.close()
    writer.write("the slow path too")
    monkeypatch.undo()
    assert read_messages(log_path) == [
        "opened",
        "a message written three bytes at a time",
        "the slow path too",
    ]


def test_short_write_then_error(monkeypatch: pytest.MonkeyPatch, log_path: Path) -> None:
    real_write = os.write
    calls = 0

    def write(fd: int, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_write(fd, data[:4])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    writer = LogWriter(log_path)
    writer.write("opened")
    monkeypatch.setattr(bgref_linelog._writer, "_os_write", write)
    with pytest.raises(LogWriteError, match="No space left on device"):
        writer.write("torn by a full disk")
    writer.close()


def test_error_while_reopening_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    writer = LogWriter(path, reopen_check=0)
    writer.write("one")
    shutil.move(path, tmp_path / "log.1")
    path.mkdir()
    with pytest.raises(LogWriteError, match="Is a directory"):
        writer.write("lost")
    path.rmdir()
    writer.write("two")
    assert read_messages(path) == ["two"]
    assert read_messages(tmp_path / "log.1") == ["one"]
    writer.close()

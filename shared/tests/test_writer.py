"""LogWriter basics: the seed's format, the delay, closing and reopening."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bgref_linelog import LogWriter, read_messages


def test_plain_messages_keep_the_tutorial_format(log_path: Path) -> None:
    with LogWriter(log_path) as writer:
        writer.write("hello")
        writer.write("world, é 😀")
    assert log_path.read_bytes() == "hello\nworld, é 😀\n".encode()


def test_non_ascii_text_is_written_as_it_is(log_path: Path) -> None:
    # "é" and "中" take the fast path; "©" (0xC2 lead byte) and "“" (0xE2) the
    # slow one, which keeps them too.
    messages = ["café 中文 😀", "© 2024 “quoted” – dash", "\u00a0nbsp \u200bzwsp"]
    with LogWriter(log_path, reopen_check=60) as writer:
        writer.write("opened")
        for message in messages:
            writer.write(message)
    assert log_path.read_bytes() == "".join(m + "\n" for m in ["opened", *messages]).encode()


def test_escapes_unsafe_messages(log_path: Path) -> None:
    messages = ["forged\nINFO admin logged in", "\r", "\x85", "\u2028", "\\", "\ud800", ""]
    with LogWriter(log_path, reopen_check=60) as writer:
        writer.write("opened")  # the rest take the fast path
        for message in messages:
            writer.write(message)
    assert log_path.read_bytes().count(b"\n") == len(messages) + 1
    assert len(log_path.read_text(encoding="utf-8").splitlines()) == len(messages) + 1
    assert read_messages(log_path) == ["opened", *messages]


def test_default_path_is_log_txt_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    with LogWriter() as writer:
        writer.write("here")
    assert (tmp_path / "log.txt").read_text(encoding="utf-8") == "here\n"


def test_log_path_environment_variable(monkeypatch: pytest.MonkeyPatch, log_path: Path) -> None:
    monkeypatch.setenv("LOG_PATH", str(log_path))
    with LogWriter() as writer:
        writer.write("from env")
    assert read_messages(log_path) == ["from env"]


def test_appends_to_an_existing_file(log_path: Path) -> None:
    log_path.write_text("before\n", encoding="utf-8")
    with LogWriter(log_path) as writer:
        writer.write("after")
    assert read_messages(log_path) == ["before", "after"]


def test_file_is_opened_on_first_write(log_path: Path) -> None:
    writer = LogWriter(log_path)
    assert not log_path.exists()
    writer.write("now")
    assert log_path.exists()
    writer.close()


def test_write_after_close_reopens(log_path: Path) -> None:
    writer = LogWriter(log_path)
    writer.close()  # closing an unopened writer is fine
    writer.write("one")
    writer.close()
    writer.close()
    writer.write("two")
    writer.close()
    assert read_messages(log_path) == ["one", "two"]


def test_large_message_is_one_line(log_path: Path) -> None:
    message = ("x" * 1000 + "\n") * 100
    with LogWriter(log_path) as writer:
        writer.write(message)
    assert log_path.read_bytes().count(b"\n") == 1
    assert read_messages(log_path) == [message]


def test_delay_comes_before_the_write(log_path: Path) -> None:
    writer = LogWriter(log_path, delay_ms=100)
    start = time.perf_counter()
    writer.write("slow")
    assert time.perf_counter() - start >= 0.1
    assert read_messages(log_path) == ["slow"]
    writer.close()


def test_delay_does_not_serialize_writers(log_path: Path) -> None:
    writer = LogWriter(log_path, delay_ms=500)
    threads = [threading.Thread(target=writer.write, args=(f"t{i}",)) for i in range(8)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Serialized, this would take 4 s.
    assert time.perf_counter() - start < 2.5
    assert sorted(read_messages(log_path)) == [f"t{i}" for i in range(8)]
    writer.close()


def test_writer_used_after_garbage_collection_of_another(log_path: Path) -> None:
    first = LogWriter(log_path)
    first.write("first")
    del first  # the finalizer closes its descriptor
    with LogWriter(log_path) as second:
        second.write("second")
    assert read_messages(log_path) == ["first", "second"]

"""read_messages: the log file back into the messages."""

from __future__ import annotations

from pathlib import Path

from bgref_linelog import escape, read_messages


def test_missing_file_has_no_messages(log_path: Path) -> None:
    assert read_messages(log_path) == []


def test_empty_file_has_no_messages(log_path: Path) -> None:
    log_path.write_bytes(b"")
    assert read_messages(str(log_path)) == []


def test_reads_escaped_lines(log_path: Path) -> None:
    messages = ["plain", "", "multi\nline", "\u2028", "back\\slash"]
    log_path.write_text("".join(escape(m) + "\n" for m in messages), encoding="utf-8")
    assert read_messages(log_path) == messages


def test_reads_the_tutorial_format(log_path: Path) -> None:
    # What the tutorial's write_log leaves behind: message + "\n", unescaped.
    log_path.write_text("hello\nworld\n", encoding="utf-8")
    assert read_messages(log_path) == ["hello", "world"]


def test_keeps_an_unterminated_last_line(log_path: Path) -> None:
    log_path.write_bytes(b"complete\npartial")
    assert read_messages(log_path) == ["complete", "partial"]

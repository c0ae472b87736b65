"""Escaping: one line per message, reversible, verbatim for plain text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgref_linelog import escape, unescape
from bgref_linelog._escape import UNSAFE_BYTES

# Every code point, surrogates included: a Python str can hold them.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()))
# Text made mostly of the characters that need care.
TRICKY_TEXT = st.text(
    st.sampled_from(["\\", "\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\x9f"])
    | st.sampled_from(["\u2028", "\u2029", "\ud800", "\udfff", "x", "n", "u", "2", "é", "😀"])
)


@pytest.mark.parametrize(
    ("message", "line"),
    [
        ("hello world", "hello world"),
        ("", ""),
        ("é 😀 中文 \u00a0 \u200b", "é 😀 中文 \u00a0 \u200b"),
        ("a\\b", "a\\\\b"),
        ("two\nlines", "two\\nlines"),
        ("cr\rlf\r\n", "cr\\rlf\\r\\n"),
        ("tab\there", "tab\\there"),
        ("nul\x00 esc\x1b del\x7f", "nul\\x00 esc\\x1b del\\x7f"),
        ("c1 \x85 \x9f \x80", "c1 \\x85 \\x9f \\x80"),
        ("vt\x0b ff\x0c fs\x1c", "vt\\x0b ff\\x0c fs\\x1c"),
        ("ls\u2028ps\u2029", "ls\\u2028ps\\u2029"),
        ("lone \ud800 \udfff", "lone \\ud800 \\udfff"),
        ("\\n is not a newline", "\\\\n is not a newline"),
    ],
)
def test_escape_examples(message: str, line: str) -> None:
    assert escape(message) == line
    assert unescape(line) == message


def test_plain_message_is_returned_as_is() -> None:
    message = "a plain message, printable, without backslash"
    assert escape(message) is message


def test_unescape_keeps_unknown_sequences() -> None:
    # Lines from other writers (the tutorial's) may hold stray backslashes.
    assert unescape("C:\\path\\x\\u12 \\") == "C:\\path\\x\\u12 \\"
    assert unescape("\\X41\\x4A\\u00E9") == "\\X41Jé"


def _assert_one_safe_line(line: str) -> None:
    assert "\n" not in line
    assert len((line + "\n").splitlines()) == 1
    assert (line + "\n").encode("utf-8").decode("utf-8").splitlines() == [line]
    assert not any(_is_unsafe(char) for char in line)


def _is_unsafe(char: str) -> bool:
    code = ord(char)
    return (
        code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029) or 0xD800 <= code < 0xE000
    )


@given(ANY_TEXT)
def test_round_trip_any_text(message: str) -> None:
    line = escape(message)
    _assert_one_safe_line(line)
    assert unescape(line) == message


@given(TRICKY_TEXT)
def test_round_trip_tricky_text(message: str) -> None:
    line = escape(message)
    _assert_one_safe_line(line)
    assert unescape(line) == message


@given(st.lists(ANY_TEXT, max_size=20))
def test_line_count_equals_message_count(messages: list[str]) -> None:
    text = "".join(escape(message) + "\n" for message in messages)
    assert len(text.split("\n")) - 1 == len(messages)
    assert len(text.splitlines()) == len(messages)
    assert [unescape(line) for line in text.splitlines()] == messages


@given(ANY_TEXT)
def test_unchanged_bytes_mean_nothing_to_escape(message: str) -> None:
    # The writer's fast path trusts this: bytes that UNSAFE_BYTES leaves alone
    # come from a message that escape() leaves alone.
    try:
        data = message.encode()
    except UnicodeEncodeError:
        return
    if data.translate(UNSAFE_BYTES) == data:
        assert escape(message) == message


@pytest.mark.parametrize("char", ["\\", "\n", "\x00", "\x1f", "\x7f", "\x85", "\u2028", "\u2029"])
def test_unsafe_bytes_flag_every_unsafe_character(char: str) -> None:
    data = f"a{char}b".encode()
    assert data.translate(UNSAFE_BYTES) != data

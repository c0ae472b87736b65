"""Any text but NUL round-trips: one log line per message, decoded back to what was sent."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgref_compare import Stack
from bgref_linelog import unescape

from ._helpers import (
    RECEIVED,
    SETTLE_DEADLINE,
    assert_json,
    logged,
    raw_log_lines,
    send,
    token,
    wait_for_messages,
)

CASES = {
    "newline": "\n",
    "carriage-return": "\r",
    "crlf": "\r\n",
    "tab": "\t",
    "next-line-u0085": "\x85",
    "line-separator-u2028": "\u2028",
    "paragraph-separator-u2029": "\u2029",
    "vertical-tab-form-feed": "\x0b\x0c",
    "file-group-record-separators": "\x1c\x1d\x1e",
    "all-c0-controls-but-nul": "".join(map(chr, range(1, 0x20))) + "\x7f",
    "c1-controls": "".join(map(chr, range(0x80, 0xA0))),
    "escape-sequence-ansi": "\x1b[31mred\x1b[0m",
    "backslashes": "\\ \\\\ \\\\\\",
    "literal-backslash-n": "\\n",
    "escape-lookalikes": "\\x0a \\u2028 \\r\\n \\t \\",
    "fake-log-line": "ok\nINFO forged entry",
    "emoji": "😀👩‍👩‍👧‍👦🇫🇷👍🏽",
    "rtl": "שלום עולם مرحبا بالعالم \u202eevil\u202c",
    "combining-marks": "e\u0301 n\u0303 Z\u0324\u0354\u0345",
    "zero-width-and-bom": "\ufeff\u200b\u200c\u200d",
    "noncharacters": "\ufffe\uffff\U0010ffff",
    "query-syntax": "a+b&c=d%20e#f?g;h",
    "json-lookalike": '{"message": "Message received"}',
    "spaces-at-the-edges": "  ",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_special_characters_round_trip_as_one_line(
    stack: Stack, client: httpx.Client, text: str
) -> None:
    """Line breaks and other specials never split, hide or forge a log line."""
    marker = token()
    # The specials at both edges and in the middle, where stripping or
    # splitting would show.
    message = f"{text}{marker}{text}"
    response = send(client, message)
    assert response.status_code == 200, f"{response.status_code} {response.text[:200]!r}"
    assert assert_json(response) == RECEIVED
    log = wait_for_messages(stack, [message], SETTLE_DEADLINE)
    assert [m for m in log if marker in m] == [message]
    lines = [line for line in raw_log_lines(stack) if marker.encode() in line]
    assert len(lines) == 1, f"the message spans {len(lines)} physical lines"
    line = lines[0].decode("utf-8")
    # One line for every reader, including those that also split on CR, NEL,
    # U+2028 and the like (str.splitlines).
    assert line.splitlines() == [line], f"{line!r} would be split by a log viewer"
    assert unescape(line) == message


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    text=st.text(
        st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=1000
    )
)
def test_arbitrary_text_round_trips(stack: Stack, client: httpx.Client, text: str) -> None:
    """Every text of 1 to 1,000 characters without NUL is acknowledged and written unchanged."""
    # The exact text is the key (no marker), so that its edges are tested too;
    # counting copies tells this example's line from an earlier identical one.
    before = logged(stack).count(text)
    response = send(client, text)
    assert response.status_code == 200, f"{response.status_code} {response.text[:200]!r}"
    assert assert_json(response) == RECEIVED
    wait_for_messages(stack, [text] * (before + 1), SETTLE_DEADLINE)

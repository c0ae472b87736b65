"""The message's limits: what is accepted, and what is refused with 422 writing nothing."""

from __future__ import annotations

import httpx
import pytest

from bgref_compare import Stack

from ._helpers import (
    BASELINE,
    RECEIVED,
    SEND,
    SETTLE_DEADLINE,
    assert_json,
    logged,
    message_query,
    nothing_written,
    request,
    send,
    token,
    wait_for_messages,
)
from ._openapi import OpenAPI, Operation

MAX_LENGTH = 1000
# Sixteen 4-byte emoji (U+1F600..U+1F60F): a token spelled with them keeps an
# all-emoji message unique.
_EMOJI = [chr(0x1F600 + i) for i in range(16)]


def emoji_message(length: int) -> str:
    """A unique message of ``length`` 4-byte emoji."""
    marker = "".join(_EMOJI[int(digit, 16)] for digit in token())
    return (marker + "😀" * length)[:length]


def ascii_message(length: int) -> str:
    """A unique ASCII message of exactly ``length`` characters (at least 32)."""
    marker = token()
    return marker + "x" * (length - len(marker))


def _invalid_queries() -> list[tuple[str, bytes]]:
    tag = token().encode()
    return [
        ("missing", b""),
        ("other-parameter-only", b"msg=" + tag),
        ("empty", b"message="),
        ("empty-without-equals", b"message"),
        ("too-long-ascii", message_query(ascii_message(MAX_LENGTH + 1))),
        ("too-long-emoji", message_query(emoji_message(MAX_LENGTH + 1))),
        ("repeated", b"message=" + tag + b"a&message=" + tag + b"b"),
        ("repeated-same", b"message=" + tag + b"&message=" + tag),
        ("repeated-one-empty", b"message=" + tag + b"&message="),
        ("nul", b"message=" + tag + b"%00"),
        ("bad-escape-zz", b"message=" + tag + b"%zz"),
        ("bad-escape-truncated", b"message=" + tag + b"%4"),
        ("trailing-percent", b"message=" + tag + b"%"),
        ("invalid-utf8-ff", b"message=" + tag + b"%ff"),
        ("overlong-utf8", b"message=" + tag + b"%C0%AF"),
        ("encoded-surrogate", b"message=" + tag + b"%ED%A0%80"),
        ("truncated-utf8", b"message=" + tag + b"%F0%9F%98"),
    ]


INVALID = _invalid_queries()


@pytest.mark.parametrize("path", [SEND, BASELINE])
@pytest.mark.parametrize(("case", "query"), INVALID, ids=[case for case, _ in INVALID])
def test_invalid_messages_are_422_and_write_nothing(
    stack: Stack,
    client: httpx.Client,
    openapi: OpenAPI,
    path: str,
    case: str,
    query: bytes,
) -> None:
    """A refused message gets the documented 422 body and is never written."""
    with nothing_written(stack, client):
        response = request(client, "POST", path, query)
    assert response.status_code == 422, f"{case}: {response.status_code} {response.text[:200]!r}"
    body = assert_json(response)
    assert isinstance(body, dict)
    assert body.get("detail"), f"{case}: no detail in {body!r}"
    openapi.check_response(Operation(path, "post", ()), response)


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(ascii_message(MAX_LENGTH), id="1000-ascii"),
        pytest.param(emoji_message(MAX_LENGTH), id="1000-emoji"),
        pytest.param(emoji_message(MAX_LENGTH - 1) + "é", id="999-emoji-and-latin"),
    ],
)
def test_longest_messages_are_accepted_and_written(
    stack: Stack, client: httpx.Client, message: str
) -> None:
    """1,000 characters are accepted everywhere, even 1,000 4-byte emoji (~12 KB encoded)."""
    assert len(message) == MAX_LENGTH
    response = send(client, message)
    assert response.status_code == 200, f"{response.status_code} {response.text[:200]!r}"
    assert assert_json(response) == RECEIVED
    log = wait_for_messages(stack, [message], SETTLE_DEADLINE)
    assert log.count(message) == 1


def test_a_single_character_is_accepted_and_written(stack: Stack, client: httpx.Client) -> None:
    """The shortest valid message, one character, is written once."""
    message = emoji_message(1)
    before = logged(stack).count(message)
    response = send(client, message)
    assert response.status_code == 200
    assert assert_json(response) == RECEIVED
    wait_for_messages(stack, [message] * (before + 1), SETTLE_DEADLINE)

"""The strict reading of the ``message`` query parameter from the raw query string."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

__all__ = ["MAX_LENGTH", "InvalidMessage", "parse_message"]

MAX_LENGTH = 1000

# A "%" that does not start a two-hex-digit escape ("%zz", "%4", a trailing "%"):
# lenient decoders keep it as text, so the log would hold what the client never sent.
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class InvalidMessage(ValueError):
    """The query string does not carry exactly one valid ``message``.

    ``error`` is one item of FastAPI's 422 ``detail`` list: ``type``, ``loc``, ``msg``,
    ``input`` and, for length errors, ``ctx``.
    """

    def __init__(
        self, type_: str, msg: str, input_: Any = None, ctx: dict[str, Any] | None = None
    ) -> None:
        super().__init__(msg)
        self.error: dict[str, Any] = {
            "type": type_,
            "loc": ["query", "message"],
            "msg": msg,
            "input": input_,
        }
        if ctx is not None:
            self.error["ctx"] = ctx


def parse_message(query_string: bytes) -> str:
    """Return the one ``message`` in a raw query string, or raise ``InvalidMessage``."""
    values = [value for name, value in _fields(query_string) if name == "message"]
    if not values:
        raise InvalidMessage("missing", "Field required")
    if len(values) > 1:
        # Picking one of them silently invites parameter-pollution bugs.
        raise InvalidMessage(
            "parameter_repeated",
            f"Parameter should be given once, not {len(values)} times",
            values,
        )
    message = values[0]
    if not message:
        raise InvalidMessage(
            "string_too_short",
            "String should have at least 1 character",
            message,
            {"min_length": 1},
        )
    if len(message) > MAX_LENGTH:
        raise InvalidMessage(
            "string_too_long",
            f"String should have at most {MAX_LENGTH} characters",
            message,
            {"max_length": MAX_LENGTH},
        )
    if "\x00" in message:
        raise InvalidMessage(
            "string_contains_nul", "String should not contain NUL (U+0000)", message
        )
    return message


def _fields(query_string: bytes) -> Iterator[tuple[str, str]]:
    """Yield the decoded ``name, value`` pairs, splitting on ``&`` like ``urllib.parse``."""
    text = query_string.decode("latin-1")
    if not query_string.isascii():
        # RFC 3986 keeps a query ASCII; a raw byte would be decoded differently by
        # each framework (Starlette reads it as Latin-1).
        raise InvalidMessage(
            "query_not_ascii", "Query string should be percent-encoded ASCII", text
        )
    if _BAD_ESCAPE.search(query_string):
        raise InvalidMessage(
            "query_bad_escape", "Query string should not hold a malformed percent-escape", text
        )
    for field in query_string.split(b"&"):
        if field:
            name, _, value = field.partition(b"=")
            yield _decode(name, text), _decode(value, text)


def _decode(component: bytes, text: str) -> str:
    """Percent-decode one name or value and decode it as UTF-8, strictly."""
    try:
        return unquote_to_bytes(component.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidMessage(
            "query_not_utf8", "Query string should be percent-encoded UTF-8", text
        ) from None

"""The ``message`` query parameter, parsed strictly from the raw query string."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError

__all__ = ["MAX_LENGTH", "message_param", "parse_message"]

MAX_LENGTH = 1000
_LOC = ("query", "message")
# A '%' not followed by two hex digits: '%zz', '%4', a trailing '%'.
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class _Invalid(Exception):
    def __init__(self, type_: str, msg: str, **extra: Any) -> None:
        super().__init__(msg)
        self.error = {"type": type_, "loc": _LOC, "msg": msg, **extra}


def parse_message(query_string: bytes) -> str:
    """Return the one ``message`` in ``query_string``, or raise ``RequestValidationError``.

    Frameworks decode leniently (``%zz`` kept as is, bad UTF-8 turned into U+FFFD),
    so the raw bytes are decoded here with no such forgiveness.
    """
    try:
        return _parse(query_string)
    except _Invalid as invalid:
        raise RequestValidationError([invalid.error]) from None


async def message_param(
    request: Request,
    message: Annotated[
        str,
        Query(min_length=1, max_length=MAX_LENGTH, description="1 to 1000 characters, no NUL."),
    ],
) -> str:
    """FastAPI dependency: the validated ``message`` of this request."""
    # FastAPI has checked (and documented) the leniently decoded value; the raw
    # query string has the last word. An async dependency runs on the event
    # loop, where a sync one would cost a thread hop per request.
    del message
    return parse_message(request.scope["query_string"])


def _parse(query_string: bytes) -> str:
    if _BAD_ESCAPE.search(query_string):
        raise _Invalid("value_error", "Value error, malformed percent-escape in the query string")
    values: list[str] = []
    for field in query_string.split(b"&"):
        if not field:
            continue
        name, _, value = field.partition(b"=")
        # Every field is decoded, so bad UTF-8 anywhere in the query is refused.
        decoded = _decode(value)
        if _decode(name) == "message":
            values.append(decoded)
    if not values:
        raise _Invalid("missing", "Field required", input=None)
    if len(values) > 1:
        raise _Invalid("value_error", "Value error, message must be given exactly once")
    (message,) = values
    if not message:
        raise _Invalid(
            "string_too_short",
            "String should have at least 1 character",
            input=message,
            ctx={"min_length": 1},
        )
    if len(message) > MAX_LENGTH:
        raise _Invalid(
            "string_too_long",
            f"String should have at most {MAX_LENGTH} characters",
            input=message,
            ctx={"max_length": MAX_LENGTH},
        )
    if "\x00" in message:
        raise _Invalid("value_error", "Value error, message must not contain NUL")
    return message


def _decode(raw: bytes) -> str:
    """Percent-decode form-style ('+' is a space), then decode UTF-8 strictly."""
    if b"%" in raw or b"+" in raw:
        raw = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Invalid("value_error", "Value error, the query string is not valid UTF-8") from None

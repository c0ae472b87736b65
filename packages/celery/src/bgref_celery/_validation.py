"""The ``message`` query parameter, read strictly from the raw query string."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError

__all__ = ["MAX_LENGTH", "message_param", "parse_message"]

MAX_LENGTH = 1000
# A "%" that does not start a two-hex-digit escape ("%zz", "%4", a trailing "%"):
# lenient decoders keep it as text, so the log would hold what the client never sent.
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class _Invalid(Exception):
    """One item of FastAPI's 422 ``detail`` list, as an exception."""

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


def parse_message(query_string: bytes) -> str:
    """Return the one ``message`` in a raw query string, or raise ``RequestValidationError``.

    The checks and error types are the FastAPI app's, so that the two differ only
    in where the work goes.
    """
    try:
        return _parse(query_string)
    except _Invalid as invalid:
        raise RequestValidationError([invalid.error]) from None


def _parse(query_string: bytes) -> str:
    values = [value for name, value in _fields(query_string) if name == "message"]
    if not values:
        raise _Invalid("missing", "Field required")
    if len(values) > 1:
        # Picking one of them silently invites parameter-pollution bugs.
        raise _Invalid(
            "parameter_repeated",
            f"Parameter should be given once, not {len(values)} times",
            values,
        )
    (message,) = values
    if not message:
        raise _Invalid(
            "string_too_short",
            "String should have at least 1 character",
            message,
            {"min_length": 1},
        )
    if len(message) > MAX_LENGTH:
        raise _Invalid(
            "string_too_long",
            f"String should have at most {MAX_LENGTH} characters",
            message,
            {"max_length": MAX_LENGTH},
        )
    if "\x00" in message:
        raise _Invalid("string_contains_nul", "String should not contain NUL (U+0000)", message)
    return message


def _fields(query_string: bytes) -> Iterator[tuple[str, str]]:
    """Yield every decoded ``name, value`` pair, split on ``&`` as ``urllib.parse`` does."""
    text = query_string.decode("latin-1")
    if not query_string.isascii():
        # A query is percent-encoded ASCII (RFC 3986); frameworks read raw bytes differently.
        raise _Invalid("query_not_ascii", "Query string should be percent-encoded ASCII", text)
    if _BAD_ESCAPE.search(query_string):
        raise _Invalid(
            "query_bad_escape", "Query string should not hold a malformed percent-escape", text
        )
    for field in query_string.split(b"&"):
        if field:
            name, _, value = field.partition(b"=")
            # Every field is decoded, so bad UTF-8 anywhere in the query is refused.
            yield _decode(name, text), _decode(value, text)


def _decode(component: bytes, text: str) -> str:
    """Percent-decode one name or value ('+' is a space) and decode it as UTF-8, strictly."""
    try:
        return unquote_to_bytes(component.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise _Invalid(
            "query_not_utf8", "Query string should be percent-encoded UTF-8", text
        ) from None

"""The ``message`` query parameter, read strictly from the raw query string."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

__all__ = ["MAX_LENGTH", "InvalidMessage", "parse_message"]

MAX_LENGTH = 1000

# A "%" not followed by two hex digits: "%zz", "%4", or a trailing "%".
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class InvalidMessage(ValueError):
    """The query does not carry exactly one valid message; answered with 422."""

    def __init__(self, type_: str, msg: str) -> None:
        super().__init__(msg)
        self.type = type_
        self.msg = msg

    def detail(self) -> list[dict[str, Any]]:
        """The FastAPI-shaped ``detail`` list for the 422 body."""
        return [{"loc": ["query", "message"], "msg": self.msg, "type": self.type}]


def parse_message(query_string: bytes) -> str:
    """Return the one ``message`` in a raw query string, or raise `InvalidMessage`."""
    # Werkzeug and urllib decode leniently (keep "%zz", turn "%ff" into U+FFFD), so
    # the log would hold text the client never sent: check the raw bytes instead.
    if _BAD_ESCAPE.search(query_string):
        raise InvalidMessage("value_error", "Value error, malformed percent-escape in query")
    values = []
    for pair in query_string.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name = _decode(raw_name)
        value = _decode(raw_value)
        if name == "message":
            values.append(value)
    if not values:
        raise InvalidMessage("missing", "Field required")
    if len(values) > 1:
        # Picking one of several silently invites parameter-pollution bugs.
        raise InvalidMessage("value_error", "Value error, message must be given exactly once")
    message = values[0]
    if not message:
        raise InvalidMessage("string_too_short", "String should have at least 1 character")
    if len(message) > MAX_LENGTH:
        raise InvalidMessage(
            "string_too_long", f"String should have at most {MAX_LENGTH} characters"
        )
    if "\x00" in message:
        raise InvalidMessage("value_error", "Value error, message must not contain NUL")
    return message


def _decode(component: bytes) -> str:
    try:
        return unquote_to_bytes(component.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidMessage("value_error", "Value error, query is not valid UTF-8") from None

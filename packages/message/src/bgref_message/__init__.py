"""The contract's ``message`` parameter, read strictly from a raw query string, and its answer."""

from __future__ import annotations

from ._answer import RECEIVED
from ._query import MAX_LENGTH, InvalidMessage, parse_message
from ._value import check_message

__all__ = ["MAX_LENGTH", "RECEIVED", "InvalidMessage", "check_message", "parse_message"]

"""The contract's ``message``, read strictly from a raw query string; its answer; a test trace."""

from __future__ import annotations

from ._answer import RECEIVED
from ._query import MAX_LENGTH, InvalidMessage, parse_message
from ._trace import TRACE_ENV, Trace, TraceMiddleware, work_started
from ._value import check_message

__all__ = [
    "MAX_LENGTH",
    "RECEIVED",
    "TRACE_ENV",
    "InvalidMessage",
    "Trace",
    "TraceMiddleware",
    "check_message",
    "parse_message",
    "work_started",
]

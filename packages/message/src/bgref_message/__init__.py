"""The contract's ``message``, read strictly; its answers; the publish gate; a trace.

And what every worker queue's settings share (``BrokerSettings``).
"""

from __future__ import annotations

from ._answer import RECEIVED, RETRY_AFTER, UNAVAILABLE, health, refusal
from ._env import milliseconds, positive_float, positive_int
from ._gate import BrokerUnavailable, PartlyPublished, PublishGate, describe
from ._query import MAX_LENGTH, InvalidMessage, parse_message
from ._settings import BrokerSettings
from ._trace import TRACE_ENV, Trace, TraceMiddleware, work_started
from ._value import check_message

__all__ = [
    "MAX_LENGTH",
    "RECEIVED",
    "RETRY_AFTER",
    "TRACE_ENV",
    "UNAVAILABLE",
    "BrokerSettings",
    "BrokerUnavailable",
    "InvalidMessage",
    "PartlyPublished",
    "PublishGate",
    "Trace",
    "TraceMiddleware",
    "check_message",
    "describe",
    "health",
    "milliseconds",
    "parse_message",
    "positive_float",
    "positive_int",
    "refusal",
    "work_started",
]

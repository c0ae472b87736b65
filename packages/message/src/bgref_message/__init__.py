"""The contract's ``message``, read strictly, and its answers, for every implementation.

What every front shares: ``parse_message`` (and ``check_message`` for a
message that arrives decoded), the answers, the environment's readers and the
contract suite's test trace. What the worker queues share beyond that, their
publish gate and their workers' checks, is ``bgref_message.queue``.
"""

from __future__ import annotations

from ._answer import RECEIVED, RETRY_AFTER, UNAVAILABLE, health, refusal
from ._env import milliseconds, positive_float, positive_int
from ._query import MAX_LENGTH, InvalidMessage, parse_message
from ._trace import TRACE_ENV, Trace, TraceMiddleware, work_started
from ._value import check_message

__all__ = [
    "MAX_LENGTH",
    "RECEIVED",
    "RETRY_AFTER",
    "TRACE_ENV",
    "UNAVAILABLE",
    "InvalidMessage",
    "Trace",
    "TraceMiddleware",
    "check_message",
    "health",
    "milliseconds",
    "parse_message",
    "positive_float",
    "positive_int",
    "refusal",
    "work_started",
]

"""The contract's ``message``, read strictly; its answers; the publish gate; a test trace.

And the worker's side of a queue: a job's arguments checked again, a group
written; and what every queue's settings share (``BrokerSettings``).
"""

from __future__ import annotations

from ._answer import RECEIVED, RETRY_AFTER, UNAVAILABLE, health, refusal
from ._env import milliseconds, positive_float, positive_int
from ._gate import BrokerUnavailable, PartlyPublished, PublishGate, describe
from ._group import MAX_GROUP, SLICE, GroupWriteFailed, split, write_group
from ._job import InvalidJob, check_group, check_one, job_argument
from ._query import MAX_LENGTH, InvalidMessage, parse_message
from ._settings import BrokerSettings
from ._trace import TRACE_ENV, Trace, TraceMiddleware, work_started
from ._value import check_message

__all__ = [
    "MAX_GROUP",
    "MAX_LENGTH",
    "RECEIVED",
    "RETRY_AFTER",
    "SLICE",
    "TRACE_ENV",
    "UNAVAILABLE",
    "BrokerSettings",
    "BrokerUnavailable",
    "GroupWriteFailed",
    "InvalidJob",
    "InvalidMessage",
    "PartlyPublished",
    "PublishGate",
    "Trace",
    "TraceMiddleware",
    "check_group",
    "check_message",
    "check_one",
    "describe",
    "health",
    "job_argument",
    "milliseconds",
    "parse_message",
    "positive_float",
    "positive_int",
    "refusal",
    "split",
    "work_started",
    "write_group",
]

"""What a worker queue's two sides share: the web front's publish gate, the worker's checks.

The web side: ``PublishGate`` (the broker's blocking client off the event loop,
concurrent messages grouped, ``describe`` for a refusal's reason) and
``bgref_message.queue.fastapi.queue_app``, the whole front. The worker side: a
job's arguments checked again (``job_argument``, ``check_one``,
``check_group``), a group written (``write_group``). Between them, ``MAX_GROUP``,
the most messages one job carries, and ``BrokerSettings``, what every queue's
settings read alike.
"""

from __future__ import annotations

from ._gate import BrokerUnavailable, PartlyPublished, PublishGate, describe
from ._group import MAX_GROUP, SLICE, GroupWriteFailed, split, write_group
from ._job import InvalidJob, check_group, check_one, job_argument
from ._settings import BrokerSettings

__all__ = [
    "MAX_GROUP",
    "SLICE",
    "BrokerSettings",
    "BrokerUnavailable",
    "GroupWriteFailed",
    "InvalidJob",
    "PartlyPublished",
    "PublishGate",
    "check_group",
    "check_one",
    "describe",
    "job_argument",
    "split",
    "write_group",
]

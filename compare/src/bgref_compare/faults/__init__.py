"""The fault toolkit of the contract suite (``tests/``) and the harness's fault scenarios.

A burst of messages and what each request got back, the ledger that accounts
them against the log, the wait for a stack to settle (the broker idle
included), the process a fault strikes, and the environment of a fault stack.
It imports the process runner (``stack/``) and nothing of the comparison.
"""

from __future__ import annotations

from ._burst import (
    KEEPALIVE_EXPIRY,
    NO_ANSWER,
    SEND_PATH,
    Answer,
    Burst,
    burst_messages,
    message_query,
)
from ._env import DELAY_MS, VISIBILITY_TIMEOUT_S, WORKERS, fault_env, recycle_env, redelivery_env
from ._ledger import Ledger
from ._output import failures_naming
from ._processes import (
    busy_pool_process,
    listening_addresses,
    pool_children,
    threads_asleep,
    threads_mid_task,
)
from ._settle import settle, wait_written, written

__all__ = [
    "DELAY_MS",
    "KEEPALIVE_EXPIRY",
    "NO_ANSWER",
    "SEND_PATH",
    "VISIBILITY_TIMEOUT_S",
    "WORKERS",
    "Answer",
    "Burst",
    "Ledger",
    "burst_messages",
    "busy_pool_process",
    "failures_naming",
    "fault_env",
    "listening_addresses",
    "message_query",
    "pool_children",
    "recycle_env",
    "redelivery_env",
    "settle",
    "threads_asleep",
    "threads_mid_task",
    "wait_written",
    "written",
]

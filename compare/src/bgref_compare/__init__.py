"""Run the send-message implementations: registry, process runner, private Redis, comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_names
from .registry import IMPL_IDS, IMPLS, Impl, Process, Variant, get
from .stack._polling import wait_until
from .stack._ports import free_port
from .stack._process import ManagedProcess
from .stack._rawredis import RedisReplyError, broker_idle, redis_call
from .stack._redis import (
    RedisServer,
    RedisUnavailable,
    redis_server_binary,
    redis_service,
    require_redis,
)
from .stack._stack import Stack, StackError

if TYPE_CHECKING:
    from ._compare import run_comparison
    from ._profile import PROFILES, Profile
    from ._results import Results, load_results
    from .report._report import write_report

# The comparison's modules (psutil, the report) load on first use: every
# load-generator process imports this package too, and should start fast.
_LAZY = {
    "run_comparison": "._compare",
    "PROFILES": "._profile",
    "Profile": "._profile",
    "write_report": ".report._report",
    "Results": "._results",
    "load_results": "._results",
}


__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [
    "IMPLS",
    "IMPL_IDS",
    "PROFILES",
    "Impl",
    "ManagedProcess",
    "Process",
    "Profile",
    "RedisReplyError",
    "RedisServer",
    "RedisUnavailable",
    "Results",
    "Stack",
    "StackError",
    "Variant",
    "broker_idle",
    "free_port",
    "get",
    "load_results",
    "redis_call",
    "redis_server_binary",
    "redis_service",
    "require_redis",
    "run_comparison",
    "wait_until",
    "write_report",
]

"""Run the send-message implementations: registry, process runner, private Redis, comparison."""

from __future__ import annotations

from ._compare import run_comparison
from ._polling import wait_until
from ._ports import free_port
from ._process import ManagedProcess
from ._profile import PROFILES, Profile
from ._redis import RedisServer, redis_server_binary, redis_service
from ._report import write_report
from ._results import Results, load_results
from ._stack import Stack, StackError
from .registry import IMPL_IDS, IMPLS, Impl, Process, get

__all__ = [
    "IMPLS",
    "IMPL_IDS",
    "PROFILES",
    "Impl",
    "ManagedProcess",
    "Process",
    "Profile",
    "RedisServer",
    "Results",
    "Stack",
    "StackError",
    "free_port",
    "get",
    "load_results",
    "redis_server_binary",
    "redis_service",
    "run_comparison",
    "wait_until",
    "write_report",
]

"""Run the send-message implementations: registry, process runner, private Redis, comparison."""

from __future__ import annotations

from ._polling import wait_until
from ._ports import free_port
from ._process import ManagedProcess
from ._redis import RedisServer, redis_server_binary, redis_service
from ._stack import Stack, StackError
from .registry import IMPL_IDS, IMPLS, Impl, Process, get

__all__ = [
    "IMPLS",
    "IMPL_IDS",
    "Impl",
    "ManagedProcess",
    "Process",
    "RedisServer",
    "Stack",
    "StackError",
    "free_port",
    "get",
    "redis_server_binary",
    "redis_service",
    "wait_until",
]

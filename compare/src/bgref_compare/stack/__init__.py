"""The process runner: an implementation's processes from its registry entry, a private
Redis, free ports, polling with deadlines, and memory of process trees.

The contract suite (``tests/``) and ``python -m bgref_compare serve`` use it; it imports
nothing of the comparison.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgref_compare._lazy import lazy_names

if TYPE_CHECKING:
    from ._installed import check_installed
    from ._memory import MemorySampler, total_memory, tree_memory, tree_threads
    from ._polling import wait_until
    from ._ports import free_port
    from ._process import ManagedProcess
    from ._rawredis import RedisReplyError, broker_idle, redis_call
    from ._redis import (
        RedisServer,
        RedisUnavailable,
        masked,
        redis_server_binary,
        redis_service,
        require_redis,
    )
    from ._serve import serve
    from ._stack import Stack, StackError

# Loaded on first use: the top-level package imports this one in every process,
# load generators included, and psutil (``_memory``) should not slow their start.
_LAZY = {
    "check_installed": "._installed",
    "MemorySampler": "._memory",
    "total_memory": "._memory",
    "tree_memory": "._memory",
    "tree_threads": "._memory",
    "wait_until": "._polling",
    "free_port": "._ports",
    "ManagedProcess": "._process",
    "RedisReplyError": "._rawredis",
    "broker_idle": "._rawredis",
    "redis_call": "._rawredis",
    "RedisServer": "._redis",
    "RedisUnavailable": "._redis",
    "masked": "._redis",
    "redis_server_binary": "._redis",
    "redis_service": "._redis",
    "require_redis": "._redis",
    "serve": "._serve",
    "Stack": "._stack",
    "StackError": "._stack",
}


__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [
    "ManagedProcess",
    "MemorySampler",
    "RedisReplyError",
    "RedisServer",
    "RedisUnavailable",
    "Stack",
    "StackError",
    "broker_idle",
    "check_installed",
    "free_port",
    "masked",
    "redis_call",
    "redis_server_binary",
    "redis_service",
    "require_redis",
    "serve",
    "total_memory",
    "tree_memory",
    "tree_threads",
    "wait_until",
]

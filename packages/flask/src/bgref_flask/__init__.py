"""send-message contract: Flask with a bounded, drained thread pool on gunicorn."""

from __future__ import annotations

from ._app import DEFAULT_QUEUE_SIZE, DEFAULT_WORKERS, create_app, drain
from ._pool import PoolClosed, QueueFull, WorkPool

__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "DEFAULT_WORKERS",
    "PoolClosed",
    "QueueFull",
    "WorkPool",
    "create_app",
    "drain",
]

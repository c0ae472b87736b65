"""send-message on RQ: the web front in ``web`` (FastAPI), the worker pool in ``__main__``."""

from __future__ import annotations

from ._jobs import MessageJob
from ._queue import MessageQueue
from ._worker import MessageWorker

__all__ = ["MessageJob", "MessageQueue", "MessageWorker"]

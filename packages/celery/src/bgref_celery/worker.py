"""The Celery app that the worker runs: ``celery --app bgref_celery.worker:app worker``."""

from __future__ import annotations

from typing import Any

from ._app import make_celery
from ._settings import Settings
from ._tasks import write_message, write_messages

__all__ = ["app", "write_message", "write_messages"]

app: Any = make_celery(Settings.from_env())

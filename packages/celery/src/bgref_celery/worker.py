"""The Celery app that the worker runs: ``celery --app bgref_celery.worker:app worker``."""

from __future__ import annotations

import logging
from typing import Any

from ._celery import make_celery
from ._lab import register_lab_tasks
from ._settings import Settings
from ._tasks import register_tasks

__all__ = ["app", "write_message", "write_messages"]

app: Any = make_celery(Settings.from_env())
write_messages, write_message = register_tasks(app)
# The idiomatic variants (the comparison's lab): the same worker consumes them.
register_lab_tasks(app)

# The worker runs at INFO so that its "ready." banner shows, and at INFO Celery
# logs two lines for every task it receives and finishes: a good part of what a
# small task costs. Failures still show (errors, with their tracebacks).
for _name in ("celery.app.trace", "celery.worker.strategy"):
    logging.getLogger(_name).setLevel(logging.WARNING)

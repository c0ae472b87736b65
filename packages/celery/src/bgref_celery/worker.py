"""The Celery app that the worker runs: ``celery --app bgref_celery.worker:app worker``."""

from __future__ import annotations

from typing import Any

from ._app import make_celery
from ._settings import Settings
from ._tasks import write_message, write_messages

__all__ = ["app", "write_message", "write_messages"]

app: Any = make_celery(Settings.from_env())

import logging, os  # EXPERIMENT
if os.environ.get("EXP_QUIET"):
    from celery.signals import after_setup_logger
    def _quiet(**_):
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        logging.getLogger("celery.worker.strategy").setLevel(logging.WARNING)
    after_setup_logger.connect(_quiet, weak=False)
    _quiet()

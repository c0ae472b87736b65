"""The idiomatic versions, outside the contract: ``write_log.delay(message)``, one task each.

This is Celery as its docs and the usual FastAPI + Celery tutorials show it
(Celery docs, First Steps with Celery: ``add.delay(4, 4)``; testdriven.io,
"Asynchronous Tasks with FastAPI and Celery"): a plain ``def`` endpoint calls
``.delay``, which FastAPI runs in its thread pool, one task per message, no
batching, the publishing app on Celery's defaults.

Two tasks, so that the reader sees which setting buys what:

- ``write_log``: Celery's default acknowledgement. The message is acknowledged
  just before the task runs, so a worker child killed mid-task loses it (Celery
  docs, Tasks: acks_late, and the task_acks_late setting).
- ``write_log_acks_late``: ``acks_late=True`` and ``reject_on_worker_lost=True``.
  The message is acknowledged after the task returns, and a child killed
  mid-task puts it back in the queue; one killed after the write but before the
  acknowledgement runs it twice (Celery docs, FAQ "Should I use retry or acks_late?").

Both are registered with their options spelled out on the worker's app too, so
that the tuned app's ``task_acks_late``/``task_reject_on_worker_lost`` do not
apply to them; they have no retry, as in the docs. Their faults are struck on
a worker in Celery's default prefork pool, as the docs run it (the registry's
``Variant.worker``); this package's own worker runs threads.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from fastapi import APIRouter

from bgref_message import RECEIVED
from bgref_message.fastapi import Message

from ._settings import Settings
from ._tasks import get_writer

__all__ = ["LAB_TASK", "LAB_TASK_ACKS_LATE", "STARTED", "lab_router", "register_lab_tasks"]

logger = logging.getLogger(__name__)

LAB_TASK = "bgref_celery.lab.write_log"
LAB_TASK_ACKS_LATE = "bgref_celery.lab.write_log_acks_late"

# Logged (at INFO, which the worker shows) as each lab task starts, so that a
# fault test can kill the worker child while it runs the task.
STARTED = "lab task started"


def _write_log(message: str) -> None:
    logger.info(STARTED)
    get_writer().write(message)


def register_lab_tasks(app: Any) -> tuple[Any, Any]:
    """Register ``write_log`` and ``write_log_acks_late`` on ``app``; return them in that order."""
    return (
        app.task(name=LAB_TASK, acks_late=False, reject_on_worker_lost=False)(_write_log),
        app.task(name=LAB_TASK_ACKS_LATE, acks_late=True, reject_on_worker_lost=True)(_write_log),
    )


def lab_router(settings: Settings) -> APIRouter:
    """The lab's routes, publishing through a Celery app on its default settings."""
    # Only the broker is set, as in First Steps with Celery: default serializer
    # (JSON), default connection and publish retry options.
    app = Celery("bgref_celery_lab", broker=settings.redis_url, set_as_current=False)
    write_log, write_log_acks_late = register_lab_tasks(app)
    router = APIRouter(prefix="/lab", include_in_schema=False)

    # Plain `def`, as in the tutorials: `.delay` blocks on Redis, so FastAPI runs
    # the endpoint in its thread pool.
    @router.post("/delay/")
    def delay(message: Message) -> dict[str, str]:
        """Queue one task for the message (early acknowledgement); answer."""
        write_log.delay(message)
        return RECEIVED

    @router.post("/delay-acks-late/")
    def delay_acks_late(message: Message) -> dict[str, str]:
        """Queue one task for the message (late acknowledgement); answer."""
        write_log_acks_late.delay(message)
        return RECEIVED

    return router

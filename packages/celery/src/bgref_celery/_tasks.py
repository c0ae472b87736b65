"""The background tasks: write messages with this process's writer, retrying until they land.

Anyone who can write to the broker's Redis can queue a task, so a task trusts
nothing the web did: it checks its arguments against the web's rules
(``bgref_message.check_message``) before it writes anything, and rejects a task
that fails them without retrying it (``Reject``: Celery logs it once with the
task id and drops the message). A group is written by ``bgref_message.queue.write_group``:
after its slice, the rest goes to the pool's other threads as tasks of their own.
"""

from __future__ import annotations

import logging
import random
import threading
from functools import partial
from typing import Any, NoReturn

from celery.exceptions import Reject
from celery.signals import (
    task_rejected,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_shutdown,
)
from celery.utils.log import get_task_logger

from bgref_linelog import LogWriter
from bgref_message.queue import (
    MAX_GROUP,
    GroupWriteFailed,
    InvalidJob,
    check_group,
    check_one,
    job_argument,
    split,
    write_group,
)

from ._celery import BATCH_TASK_NAME, TASK_NAME
from ._request import CheckedRequest

__all__ = ["get_writer", "register_tasks"]

logger = get_task_logger(__name__)
# For the consumer in the main process: outside celery.task, whose format wants a task.
consumer_logger = logging.getLogger("bgref_celery.worker")

# One writer per process, shared by the pool's threads (its writes are
# line-atomic); with ``--pool prefork`` each forked child opens the file for
# itself on its first write.
_writer: LogWriter | None = None
# The pool's threads may ask for it at once: one of them makes it.
_writer_lock = threading.Lock()


def get_writer() -> LogWriter:
    """This process's writer, opened on first use."""
    global _writer
    if _writer is None:
        with _writer_lock:
            if _writer is None:
                _writer = LogWriter()
    return _writer


def _check_settings(**_: object) -> None:
    # Building a writer reads LOG_PATH/LOG_FSYNC/LOG_DELAY_MS without opening the
    # file, so a bad setting stops the worker at start instead of failing tasks.
    try:
        LogWriter()
    except ValueError as error:
        # Celery logs an Exception raised by a signal handler and starts anyway;
        # SystemExit is not an Exception, so it stops the worker.
        raise SystemExit(f"bgref-celery: {error}") from None


def _open_writer(**_: object) -> None:
    get_writer()


def _close_writer(**_: object) -> None:
    if _writer is not None:
        _writer.close()


def _write_messages(task: Any, *args: object, **kwargs: object) -> None:
    """Write each message as one log line, in order; on failure retry the rest with backoff."""
    messages = _checked(args, kwargs, batch=True)
    writer = get_writer()
    try:
        write_group(messages, writer.write, partial(_hand_off, task))
    except GroupWriteFailed as failed:
        retries: int = task.request.retries
        countdown = _backoff(retries, task.app.conf.bgref_retry_backoff_max)
        # The traceback names the log path. Only the messages not yet written
        # are retried, so none is lost and none is written twice.
        logger.error(
            "Writing to %s failed (attempt %d, %d of %d messages left); retrying in %.1f s",
            writer.path,
            retries + 1,
            len(failed.rest),
            len(messages),
            countdown,
            exc_info=failed.error,
        )
        # A batch resumes at the failed message; a single message keeps its args.
        resume = {"args": (failed.rest,)} if failed.written else {}
        raise task.retry(exc=failed.error, countdown=countdown, **resume) from failed.error


def _hand_off(task: Any, rest: list[str]) -> bool:
    """Queue ``rest`` as tasks for the pool's other threads; False if Redis did not take them."""
    try:
        with task.app.producer_or_acquire() as producer, producer.batch():
            for chunk in split(rest, task.app.conf.worker_concurrency or 1):
                task.apply_async(
                    (chunk,), producer=producer, argsrepr=f"(<{len(chunk)} messages>,)"
                )
    except Exception:
        logger.warning(
            "Could not hand off %d messages; writing them here", len(rest), exc_info=True
        )
        return False
    return True


def _write_message(task: Any, *args: object, **kwargs: object) -> None:
    """Write one message as one log line, retrying with backoff until it lands."""
    _write_messages(task, _checked(args, kwargs, batch=False))


def _checked(args: tuple[object, ...], kwargs: dict[str, object], *, batch: bool) -> list[str]:
    """The task's messages if its arguments are what the web sends; else reject the task.

    The web sends one positional argument: a message, or a non-empty list of at
    most ``MAX_GROUP`` of them for a batch. Anything else came from elsewhere; a
    whole batch is rejected for one bad message, since the web never sends one.
    """
    try:
        value = job_argument(args, kwargs)
        return check_group(value, most=MAX_GROUP) if batch else [check_one(value)]
    except InvalidJob as error:
        _reject(str(error))


def _reject(reason: str) -> NoReturn:
    # Not retried (a retry would fail the same way), not requeued: Celery logs
    # "Task <name>[<id>] Reject(...)" once, and the message leaves Redis.
    raise Reject(f"invalid task arguments, dropped: {reason}", requeue=False)


def _backoff(retries: int, maximum: float) -> float:
    """A wait between half and all of a ceiling of 0.5 s doubling per retry, capped (jitter)."""
    ceiling = min(maximum, 0.5 * 2**retries)
    return random.uniform(ceiling / 2, ceiling)


def _log_rejected(message: Any = None, exc: object = None, **_: object) -> None:
    # Celery's own report of a message it will not run (a pickle, say) shows
    # its body but not its task id; the id is what ties the drop to a sender.
    headers = getattr(message, "headers", None)
    headers = headers if isinstance(headers, dict) else {}
    consumer_logger.error(
        "Dropped message %s (task %r): %r",
        str(headers.get("id", "without an id"))[:80],
        str(headers.get("task", "?"))[:80],
        exc,
    )


def register_tasks(app: Any) -> tuple[Any, Any]:
    """Register ``write_messages`` and ``write_message`` on ``app``; return them in that order."""
    # Registered on the app itself, not with @shared_task: a shared task resolves
    # to whichever app is "current", which outside the worker is Celery's default.
    # max_retries=None: retry until the write succeeds; giving up would lose messages.
    # CheckedRequest: a body that is not Celery's is rejected instead of stopping the worker.
    options = {"bind": True, "max_retries": None, "Request": CheckedRequest}
    return (
        app.task(name=BATCH_TASK_NAME, **options)(_write_messages),
        app.task(name=TASK_NAME, **options)(_write_message),
    )


# Connected by call rather than as decorators: Celery is untyped, and mypy
# --strict refuses decorators that erase a function's type.
worker_init.connect(_check_settings)
worker_process_init.connect(_open_writer)
worker_process_shutdown.connect(_close_writer)
# The threads pool has no processes of its own: the worker's shutdown closes it.
worker_shutdown.connect(_close_writer)
task_rejected.connect(_log_rejected)

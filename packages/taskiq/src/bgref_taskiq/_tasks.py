"""The task: write one message with this process's writer, then acknowledge it."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Annotated, Any

from taskiq import Context, TaskiqDepends, TaskiqEvents, TaskiqState

from bgref_linelog import LogWriter

from ._boundary import TASK_NAME
from ._broker import StreamBroker

__all__ = ["register_tasks"]

logger = logging.getLogger(__name__)

# One writer per worker process, made at the process's start: `taskiq worker`
# forks its processes, and each opens the file for itself on its first write.
_writer: LogWriter | None = None


def _get_writer() -> LogWriter:
    global _writer
    if _writer is None:
        _writer = LogWriter()
    return _writer


async def _open_writer(_: TaskiqState) -> None:
    # Reads LOG_PATH/LOG_FSYNC/LOG_DELAY_MS without opening the file, so a bad
    # setting stops the worker at start instead of failing every task.
    _get_writer()


async def _close_writer(_: TaskiqState) -> None:
    if _writer is not None:
        _writer.close()


def register_tasks(broker: StreamBroker, retry_budget: float) -> Any:
    """Register ``write_message`` on ``broker`` and return it (``await task.kiq(message)``)."""

    async def write_message(message: str, context: Annotated[Context, TaskiqDepends()]) -> None:
        """Write ``message`` as one log line; acknowledge it only once it is written.

        The worker runs with ``--ack-type manual``: the message stays in the
        group's pending list until this acknowledges it. A write that keeps
        failing is retried here for ``retry_budget`` seconds, then left
        unacknowledged: Redis hands it out again after the idle timeout.
        """
        await _write(_get_writer(), message, context.message.task_id, retry_budget)
        try:
            await context.ack()
        except Exception:
            # Written but not acknowledged: it runs again after the idle timeout.
            logger.warning(
                "Could not acknowledge task %s; it will be written again after the idle timeout",
                context.message.task_id,
                exc_info=True,
            )

    broker.on_event(TaskiqEvents.WORKER_STARTUP)(_open_writer)
    broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)(_close_writer)
    return broker.task(task_name=TASK_NAME)(write_message)


async def _write(writer: LogWriter, message: str, task_id: str, budget: float) -> None:
    """Write, retrying a failure with backoff from 0.1 s while the budget lasts."""
    deadline = time.monotonic() + budget
    attempt = 0
    while True:
        try:
            await writer.awrite(message)
        except OSError:
            attempt += 1
            wait = min(_backoff(attempt), deadline - time.monotonic())
            if wait <= 0:
                # The traceback (and the receiver's) names the log path.
                logger.exception(
                    "Writing task %s to %s failed %d times; leaving it for redelivery",
                    task_id,
                    writer.path,
                    attempt,
                )
                raise
            logger.exception(
                "Writing task %s to %s failed (attempt %d); retrying in %.2f s",
                task_id,
                writer.path,
                attempt,
                wait,
            )
            await asyncio.sleep(wait)
        else:
            return


def _backoff(attempt: int) -> float:
    """Exponential from 0.1 s, capped at 5 s, with jitter so retries do not stampede."""
    ceiling = min(5.0, 0.1 * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)

"""The tasks: write a group of messages (or one) with this process's writer, then acknowledge.

Anyone who can write to the broker's Redis can queue a task, so the broker's
``listen`` checks every entry at the boundary (``_boundary.read_job``: every
message of a group with ``bgref_message.check_message``, one bad one refusing
the group) before taskiq runs either task.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from typing import Annotated, Any

from taskiq import Context, TaskiqDepends, TaskiqEvents, TaskiqState

from bgref_linelog import LogWriter

from ._boundary import BATCH_TASK_NAME, TASK_NAME
from ._broker import StreamBroker

__all__ = ["STARTED", "register_tasks"]

logger = logging.getLogger(__name__)

# Logged (at INFO, which the worker shows) as each one-message task starts: the
# lab's route kicks that task, and a fault test kills the worker while it runs.
STARTED = "lab task started"

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


def register_tasks(broker: StreamBroker, retry_budget: float) -> tuple[Any, Any]:
    """Register ``write_messages`` and ``write_message`` on ``broker``; return them in that order.

    The web kicks ``write_messages`` with a list of messages
    (``await write_messages.kiq(messages)``), the lab's route ``write_message``
    with one. Both write, then acknowledge: the worker runs with
    ``--ack-type manual``, so the entry stays in the group's pending list until
    the task acknowledges it. A write that keeps failing is retried here for
    ``retry_budget`` seconds, then the entry is left unacknowledged: Redis hands
    it out again after the idle timeout.
    """

    async def write_messages(
        messages: list[str], context: Annotated[Context, TaskiqDepends()]
    ) -> None:
        """Write each message as one log line, then acknowledge the group."""
        await _write(_get_writer(), messages, context.message.task_id, retry_budget)
        await _ack(context)

    async def write_message(message: str, context: Annotated[Context, TaskiqDepends()]) -> None:
        """Write ``message`` as one log line, then acknowledge it."""
        logger.info(STARTED)
        await _write(_get_writer(), [message], context.message.task_id, retry_budget)
        await _ack(context)

    broker.on_event(TaskiqEvents.WORKER_STARTUP)(_open_writer)
    broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)(_close_writer)
    return (
        broker.task(task_name=BATCH_TASK_NAME)(write_messages),
        broker.task(task_name=TASK_NAME)(write_message),
    )


async def _ack(context: Context) -> None:
    try:
        await context.ack()
    except Exception:
        # Written but not acknowledged: it runs again after the idle timeout.
        logger.warning(
            "Could not acknowledge task %s; it will be written again after the idle timeout",
            context.message.task_id,
            exc_info=True,
        )


async def _write(writer: LogWriter, messages: Sequence[str], task_id: str, budget: float) -> None:
    """Write every message, retrying failed ones with backoff from 0.1 s while the budget lasts.

    Only the messages not yet written are tried again, so none is lost and none
    is written twice. Once the budget is spent the error is raised: the task
    ends unacknowledged, and the whole group comes back after the idle timeout.
    """
    deadline = time.monotonic() + budget
    attempt = 0
    left = list(messages)
    while True:
        left, error = await _attempt(writer, left)
        if error is None:
            return
        attempt += 1
        wait = min(_backoff(attempt), deadline - time.monotonic())
        if wait <= 0:
            # The traceback (and the receiver's) names the log path.
            logger.error(
                "Writing task %s to %s failed %d times (%d of %d messages left);"
                " leaving it for redelivery",
                task_id,
                writer.path,
                attempt,
                len(left),
                len(messages),
                exc_info=error,
            )
            raise error
        logger.error(
            "Writing task %s to %s failed (attempt %d, %d of %d messages left);"
            " retrying in %.2f s",
            task_id,
            writer.path,
            attempt,
            len(left),
            len(messages),
            wait,
            exc_info=error,
        )
        await asyncio.sleep(wait)


async def _attempt(writer: LogWriter, messages: list[str]) -> tuple[list[str], OSError | None]:
    """Write ``messages`` in order once; return those not written and the first error."""
    if writer.delay_ms or writer.fsync:
        # The write awaits (the simulated work, an fsync): all of the group's
        # writes wait at once, in order, instead of one after the other, so a
        # group of slow messages takes as long as one. Started in order, they
        # append in order (equal delays end in the order they began; the fsync's
        # group commit keeps its queue's order) and share their fsyncs.
        results = await asyncio.gather(
            *(writer.awrite(message) for message in messages), return_exceptions=True
        )
        left: list[str] = []
        first: OSError | None = None
        for message, result in zip(messages, results, strict=True):
            if isinstance(result, OSError):
                left.append(message)
                first = first or result
            elif isinstance(result, BaseException):
                raise result
        return left, first
    # Without a delay or an fsync an append never waits: one task per message
    # would only cost CPU.
    for done, message in enumerate(messages):
        try:
            await writer.awrite(message)
        except OSError as error:
            return messages[done:], error
    return [], None


def _backoff(attempt: int) -> float:
    """Exponential from 0.1 s, capped at 5 s, with jitter so retries do not stampede."""
    ceiling = min(5.0, 0.1 * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)

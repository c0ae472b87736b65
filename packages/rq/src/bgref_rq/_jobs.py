"""The jobs the worker runs: ``write_messages`` and ``write_message``, their payload checked first.

Anyone who can write to the broker's Redis can queue an RQ job, and a job names
the function to run by its import path: RQ imports whatever it names, so JSON
alone would still let such a client run ``os.system`` with a string argument.
``MessageJob`` runs these two functions only (a group, which the web queues,
and a single message, which the lab's route queues as RQ's docs do), and only
with a payload that the web would have queued (``bgref_message.queue.check_group``:
at most ``MAX_GROUP`` messages, each as the web checks it); anything else is
logged once with its job id and dropped, the whole job for one bad message: the
job ends as a success, so that RQ neither retries it nor keeps it.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from rq import get_current_job
from rq.exceptions import StopRequested
from rq.executions import Execution, ExecutionRegistry
from rq.job import Job

from bgref_linelog import LogWriter
from bgref_message.queue import (
    MAX_GROUP,
    GroupWriteFailed,
    InvalidJob,
    check_group,
    check_one,
    job_argument,
    write_group,
)

from ._group import GROUP_FUNC_NAME, hand_off
from ._settings import Settings

__all__ = [
    "FUNC_NAME",
    "STARTED",
    "MessageJob",
    "preload",
    "write_message",
    "write_messages",
]

logger = logging.getLogger("bgref_rq.worker")

# The single message's function, as its import path travels inside its jobs:
# spelled out here, and the other one that the worker will run.
FUNC_NAME = "bgref_rq._jobs.write_message"
# Logged (at INFO, which the worker shows) as a single-message job starts, so
# that a fault test can kill the worker while it runs one.
STARTED = "lab task started"

# One writer per worker process, created before RQ's pool forks its workers.
_writer: LogWriter | None = None


def preload() -> LogWriter:
    """Create this process's writer now (reads LOG_PATH/LOG_FSYNC/LOG_DELAY_MS)."""
    global _writer
    if _writer is None:
        _writer = LogWriter()
    return _writer


def write_message(message: str) -> None:
    """Write one message as one log line (what the lab's route queues, one job each)."""
    # A failed write raises bgref_linelog's LogWriteError, naming the path: RQ
    # logs its traceback and retries the job while it has retries left (the
    # lab's jobs have none: RQ's default).
    logger.info(STARTED)
    preload().write(message)


def write_messages(messages: list[str]) -> None:
    """Write each message as one log line, in order (what the web queues, a group a job).

    On a failed write the job is retried with the messages not yet written, so
    none is lost and none is written twice: RQ's retry saves the job, arguments
    included, in the transaction that queues it again (``Job.retry``). After
    ``bgref_message.queue.SLICE`` seconds on one group, the rest goes back to the
    queue split over the workers (``hand_off``).
    """
    job = get_current_job()
    writer = preload()

    def hand_off_rest(rest: list[str]) -> bool:
        return job is not None and hand_off(job, rest, _workers())

    try:
        write_group(messages, writer.write, hand_off_rest)
    except GroupWriteFailed as failed:
        if job is not None and failed.written:
            logger.warning(
                "Job %s: %d of %d messages written; retrying the other %d",
                job.id,
                failed.written,
                len(messages),
                len(failed.rest),
            )
            # Saved with the retry, in its transaction; a worker that dies
            # before it leaves the job as it was, and its retry writes the
            # written ones again (at most a group duplicated).
            job.args = (failed.rest,)
        # RQ logs the traceback (the failed write's, naming the path) and
        # retries the job while it has retries left.
        raise


@functools.cache
def _workers() -> int:
    # The pool's size, which its workers inherit through the environment.
    return Settings.from_env().workers


class MessageJob(Job):
    """An RQ job that writes a valid group or message, and drops anything else."""

    _refusal: str | None = None

    def _deserialize_data(self) -> None:
        # RQ raises DeserializationError from wherever the data is first read
        # (a log line, the process title): here an undecodable payload (a
        # pickle, to a JSON serializer) becomes a job that refuses itself.
        try:
            super()._deserialize_data()  # type: ignore[no-untyped-call]  # untyped in RQ
        except StopRequested:
            raise  # RQ's warm shutdown, raised by its signal handler
        except Exception as error:
            cause = error.__cause__ or error
            self._refusal = f"undecodable payload ({type(cause).__name__})"
            self._func_name, self._instance, self._args, self._kwargs = (
                "<undecodable>",
                None,
                (),
                {},
            )

    @property
    def execution_registry(self) -> ExecutionRegistry:
        """The job's record of its executions, tolerant of executions that expired."""
        return _ExecutionRegistry(self.id, connection=self.connection)

    def _execute(self) -> Any:
        """Write the messages, or log why the job is refused and drop it (no retry)."""
        try:
            name, value = self._argument()
            if name == GROUP_FUNC_NAME:
                messages = check_group(value, most=MAX_GROUP)
            else:
                message = check_one(value)
        except InvalidJob as error:
            logger.warning("Dropped job %s: %s", self.id, error)
            return None
        # Called here, never imported by the name the job carries.
        if name == GROUP_FUNC_NAME:
            write_messages(messages)
        else:
            write_message(message)
        return None

    def _argument(self) -> tuple[str, object]:
        """The function the job names, if one of ours, and its one positional argument."""
        name = self.func_name  # decodes the payload: sets _refusal if it cannot
        if self._refusal is not None:
            raise InvalidJob(self._refusal)
        if name not in (GROUP_FUNC_NAME, FUNC_NAME) or self.instance is not None:
            raise InvalidJob(
                f"it names {str(name)[:80]!r}, not {GROUP_FUNC_NAME!r} or {FUNC_NAME!r}"
            )
        return name, job_argument(self.args, self.kwargs)


class _ExecutionRegistry(ExecutionRegistry):
    """RQ's record of a job's executions, skipping those whose own hash has expired.

    RQ (3.0) keeps an execution's id in this record 60 s longer than the
    execution's hash (``ExecutionRegistry.add``), and fetching one whose hash is
    gone raises ``ValueError``. A worker that dies leaves its execution to expire
    with its lease, and its job is retried at once: every attempt in the next
    minute then wrote its message and failed in RQ's bookkeeping after it, to be
    retried again (one message written 7 times in a broker-kill run of the fault
    tests, 5 in a pool-process kill).
    """

    def get_executions(self, start: int = 0, end: int = -1) -> list[Execution]:
        """The executions still in Redis."""
        found = []
        for execution_id in self.get_execution_ids(start, end):
            try:
                found.append(Execution.fetch(execution_id, self.job_id, self.connection))
            except ValueError:
                continue  # expired: nothing of it is left to clean up
        return found

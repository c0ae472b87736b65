"""The job the worker runs: ``write_message`` and nothing else, its payload checked first.

Anyone who can write to the broker's Redis can queue an RQ job, and a job names
the function to run by its import path: RQ imports whatever it names, so JSON
alone would still let such a client run ``os.system`` with a string argument.
``MessageJob`` runs ``write_message`` only, and only with a payload that the web
would have queued (``bgref_message.check_message``); anything else is logged
once with its job id and dropped: the job ends as a success, so that RQ neither
retries it nor keeps it.
"""

from __future__ import annotations

import logging
from typing import Any

from rq.exceptions import StopRequested
from rq.executions import Execution, ExecutionRegistry
from rq.job import Job

from bgref_linelog import LogWriter
from bgref_message import InvalidMessage, check_message

__all__ = ["FUNC_NAME", "InvalidPayload", "MessageJob", "preload", "write_message"]

logger = logging.getLogger("bgref_rq.worker")

# The function's import path travels inside every queued job: spelled out here,
# and the only one that the worker will run.
FUNC_NAME = "bgref_rq._jobs.write_message"

# One writer per worker process, created before RQ's pool forks its workers.
_writer: LogWriter | None = None


def preload() -> LogWriter:
    """Create this process's writer now (reads LOG_PATH/LOG_FSYNC/LOG_DELAY_MS)."""
    global _writer
    if _writer is None:
        _writer = LogWriter()
    return _writer


def write_message(message: str) -> None:
    """Write one message as one log line (what the web queues; ``MessageJob`` calls it)."""
    # A failed write raises bgref_linelog's LogWriteError, naming the path: RQ
    # logs its traceback and retries the job while it has retries left.
    preload().write(message)


class InvalidPayload(ValueError):
    """A queued job that the web would never have queued."""


class MessageJob(Job):
    """An RQ job that runs ``write_message`` with one valid message, and drops anything else."""

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
        """Write the message, or log why the job is refused and drop it (no retry)."""
        try:
            message = self._message()
        except InvalidPayload as error:
            logger.warning("Dropped job %s: %s", self.id, error)
            return None
        write_message(message)
        return None

    def _message(self) -> str:
        name = self.func_name  # decodes the payload: sets _refusal if it cannot
        if self._refusal is not None:
            raise InvalidPayload(self._refusal)
        if name != FUNC_NAME or self.instance is not None:
            raise InvalidPayload(f"it names {str(name)[:80]!r}, not {FUNC_NAME!r}")
        args, kwargs = self.args, self.kwargs
        if not isinstance(args, (list, tuple)) or not isinstance(kwargs, dict):
            raise InvalidPayload(
                "arguments should be a list and keywords a mapping, got"
                f" {type(args).__name__} and {type(kwargs).__name__}"
            )
        if kwargs or len(args) != 1:
            raise InvalidPayload(
                f"expected one positional argument, got {len(args)} and keywords {sorted(kwargs)}"
            )
        try:
            return check_message(args[0])
        except InvalidMessage as error:
            raise InvalidPayload(f"{error.error['type']}: {error}") from None


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

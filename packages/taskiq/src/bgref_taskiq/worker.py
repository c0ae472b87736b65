"""The worker: ``python -m bgref_taskiq.worker`` runs ``taskiq worker`` with the settings.

The broker is ``bgref_taskiq.worker:broker``; the plain command is in the README.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from taskiq.cli.worker.args import WorkerArgs
from taskiq.cli.worker.run import run_worker

from bgref_linelog import LogWriter

from ._broker import StreamBroker
from ._settings import Settings
from ._tasks import register_tasks

__all__ = ["broker", "main", "worker_argv", "write_message", "write_messages"]

_settings = Settings.from_env()
broker = StreamBroker(_settings, worker=True)
write_messages, write_message = register_tasks(broker, _settings.retry_budget)


def worker_argv(settings: Settings) -> list[str]:
    """The `taskiq worker` arguments that these settings stand for."""
    return [
        "bgref_taskiq.worker:broker",
        *("--workers", str(settings.workers)),
        # Acknowledge only once the task has written its message (the task
        # calls context.ack()); see the README.
        *("--ack-type", "manual"),
        *("--max-async-tasks", str(settings.concurrency)),
        # A warm shutdown waits for the running tasks (they are short), then
        # the prefetched ones stay pending in Redis for another worker.
        *("--shutdown-timeout", "5"),
        *("--log-level", "INFO"),
    ]


def main(argv: Sequence[str] = ()) -> int:
    """Run the worker processes until SIGTERM or SIGINT; extra ``argv`` go to taskiq."""
    try:
        # Reads LOG_PATH/LOG_FSYNC/LOG_DELAY_MS without opening the file. Checked
        # here, before any process is forked: taskiq restarts a worker process
        # that fails its startup, for ever, so a bad setting found there would
        # never stop the worker.
        LogWriter()
    except ValueError as error:
        raise SystemExit(f"bgref-taskiq: {error}") from None
    # At INFO taskiq logs a line per task ("Executing task ..."): a good part
    # of what a small task costs. Failures still show.
    logging.getLogger("taskiq.receiver.receiver").setLevel(logging.WARNING)
    status = run_worker(WorkerArgs.from_cli([*worker_argv(_settings), *argv]))
    return status or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

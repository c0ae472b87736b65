"""``python -m bgref_rq``: RQ's worker pool, sized from the environment.

RQ's ``rq worker-pool --num-workers N --serializer json --worker-class
bgref_rq.MessageWorker --job-class bgref_rq.MessageJob --queue-class
bgref_rq.MessageQueue default``, with N from ``BGREF_WORKERS``, its scheduler
run by the pool itself (``MessagePool``), after creating
the writer once, in this process, so that a bad ``LOG_*`` setting stops the
pool at start and every worker it forks inherits the writer.
"""

from __future__ import annotations

import logging
import sys

import redis
from rq.serializers import JSONSerializer

from ._jobs import MessageJob, preload
from ._pool import MessagePool
from ._queue import QUEUE, MessageQueue
from ._settings import Settings
from ._worker import MessageWorker


def main() -> None:
    """Run RQ's worker pool on the ``default`` queue until SIGTERM or SIGINT."""
    try:
        settings = Settings.from_env()
        preload()
    except ValueError as error:
        raise SystemExit(f"bgref-rq: {error}") from None
    # This package's own reports (dropped jobs), in the format of RQ's.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    ours = logging.getLogger("bgref_rq")
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    ours.propagate = False
    pool = MessagePool(
        [QUEUE],
        connection=redis.Redis.from_url(settings.redis_url),
        num_workers=settings.workers,
        serializer=JSONSerializer,
        worker_class=MessageWorker,
        job_class=MessageJob,
        queue_class=MessageQueue,
    )
    pool.start(burst=False, logging_level="INFO")


if __name__ == "__main__":
    main()

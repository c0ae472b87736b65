"""A group: one RQ job carrying the messages of concurrent requests, in order.

RQ's bookkeeping is per job, not per message: the job's hash, its status, the
started-job registry, an execution record, their expiries; a few milliseconds
of the worker's CPU and half a millisecond of Redis's for each job, measured
(see the package README). One job per message spends that on every message;
one job per group of up to ``MAX_GROUP`` spends it once for all of them.
"""

from __future__ import annotations

import logging

from rq import Queue
from rq.job import Job
from rq.queue import EnqueueData
from rq.serializers import JSONSerializer

from bgref_message.queue import split

from ._retry import RETRY

__all__ = ["GROUP_FUNC_NAME", "hand_off", "prepare_group"]

logger = logging.getLogger("bgref_rq.worker")

# The function's import path travels inside every queued group: spelled out
# here, and one of the two that the worker will run (``MessageJob``).
GROUP_FUNC_NAME = "bgref_rq._jobs.write_messages"


def prepare_group(queue: Queue, messages: list[str], timeout: int) -> EnqueueData:
    """The job that writes ``messages``, ready for ``Queue.enqueue_many``."""
    return queue.prepare_data(
        GROUP_FUNC_NAME,
        (messages,),
        retry=RETRY,
        # Killed in its worker after this (RQ's default is 180 s); the worker
        # counts the job abandoned once its worker is silent this long after.
        timeout=timeout,
        # Nothing reads results: the job's hash expires a second after it has
        # run. Not 0: RQ deletes such a job at once, looking for it in every
        # registry and execution record first (a dozen round trips, 0.45 ms of
        # the worker's CPU per job, measured: see the package README).
        result_ttl=1,
        # RQ's default description is the call, messages included, which it
        # stores and may log: the users' messages stay out of both.
        description=f"write_messages(<{len(messages)} messages>)",
    )


def hand_off(job: Job, rest: list[str], pieces: int) -> bool:
    """Queue ``rest`` as up to ``pieces`` jobs for other workers; False if Redis refused them.

    A group is cheap to run in one job while its writes are fast; when they are
    slow (50 ms each), one worker writing all of it would leave the others idle.
    """
    # The worker's own connection (``rq.get_current_job().connection``), and
    # the job's queue, serializer and class: the same as the web's.
    queue = Queue(
        job.origin, connection=job.connection, serializer=JSONSerializer, job_class=type(job)
    )
    timeout = int(job.timeout) if job.timeout else 180
    try:
        # One transaction: all the pieces or none (RQ docs, bulk job enqueueing).
        queue.enqueue_many([prepare_group(queue, piece, timeout) for piece in split(rest, pieces)])
    except Exception:
        logger.warning(
            "Job %s could not hand off %d messages; writing them itself",
            job.id,
            len(rest),
            exc_info=True,
        )
        return False
    return True

"""The queue on both sides: JSON, groups of messages, retried with backoff, back soon."""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry as RedisRetry
from rq import Queue
from rq.exceptions import StopRequested
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job
from rq.serializers import JSONSerializer, Serializer
from rq.timeouts import BaseDeathPenalty
from rq.utils import now

from ._jobs import MessageJob
from ._settings import Settings

__all__ = ["QUEUE", "MessageQueue", "make_queue"]

logger = logging.getLogger("bgref_rq.worker")

QUEUE = "default"


def make_queue(settings: Settings) -> tuple[Queue, redis.Redis]:
    """The web's queue and its Redis client: short timeouts, no replays."""
    client = redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.publish_timeout,
        socket_connect_timeout=settings.connect_timeout,
        socket_keepalive=True,
        # redis-py retries a failed command three times with backoff by default:
        # a frozen Redis would hold the request four timeouts long, and a replay
        # after a timeout could queue the job twice.
        retry=RedisRetry(NoBackoff(), 0),
    )
    queue = Queue(QUEUE, connection=client, serializer=JSONSerializer, job_class=MessageJob)
    return queue, client


class MessageQueue(Queue):
    """The worker's queue: a stranded job back after the visibility timeout, bad entries logged.

    RQ takes a job by moving its id into an intermediate list, then records it
    as started; a worker that died between the two leaves the id there, and
    RQ retries it once it has been seen there for a fixed minute
    (``IntermediateQueue.should_be_cleaned_up``). Here that minute is
    ``BGREF_VISIBILITY_TIMEOUT``. An id in the queue that names no job, or a
    job that cannot be read, RQ skips silently or lets stop the worker
    (``Queue.dequeue_any``); here it is logged once with its id and removed.
    """

    @property
    def intermediate_queue(self) -> IntermediateQueue:
        """The intermediate list, with this service's floor."""
        return _IntermediateQueue(self.key, self.connection, Settings.from_env().seconds)

    @classmethod
    def _fetch_dequeued_job(
        cls,
        connection: redis.Redis,
        queue_key: str,
        job_id: str,
        job_class: type[Job] | None = None,
        serializer: Serializer | str | None = None,
        death_penalty_class: type[BaseDeathPenalty] | None = None,
    ) -> tuple[Job, Queue] | None:
        try:
            found = super()._fetch_dequeued_job(
                connection, queue_key, job_id, job_class, serializer, death_penalty_class
            )
        except StopRequested:
            raise  # RQ's warm shutdown, raised by its signal handler: not the entry's fault
        except Exception as error:
            reason = f"{type(error).__name__}: {str(error)[:200]}"
        else:
            if found is not None:
                return found
            reason = "no job has that id"
        logger.warning("Dropped queue entry %r: %s", job_id[:200], reason)
        connection.lrem(IntermediateQueue.get_intermediate_queue_key(queue_key), 1, job_id)
        return None


class _IntermediateQueue(IntermediateQueue):
    def __init__(self, queue_key: str, connection: redis.Redis, floor: int) -> None:
        super().__init__(queue_key, connection)
        self._floor = timedelta(seconds=floor)

    def set_first_seen(self, job_id: str) -> bool:
        # RQ keeps this mark a day: a job seen here once, in the instant between
        # its worker taking and recording it, would be retried at once the next
        # time it passed through (retried, say), while its worker runs it.
        # Kept a few floors long, the mark is gone by then.
        key = self.get_first_seen_key(job_id)
        expiry = 4 * int(self._floor.total_seconds())
        return bool(self.connection.set(key, now().timestamp(), nx=True, ex=expiry))

    def should_be_cleaned_up(self, job_id: str) -> bool:
        first_seen = self.get_first_seen(job_id)
        return first_seen is not None and now() - first_seen > self._floor

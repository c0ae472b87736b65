"""RQ's worker pool, running RQ's scheduler itself instead of in a process of one worker."""

from __future__ import annotations

import contextlib
import logging

import redis
from rq.scheduler import RQScheduler
from rq.worker_pool import WorkerPool

__all__ = ["MessagePool"]

logger = logging.getLogger("bgref_rq.worker")


class MessagePool(WorkerPool):
    """``rq.worker_pool.WorkerPool`` that moves due retries back to the queue from its own loop.

    A retry with an interval (``_queue.RETRY``) waits in RQ's scheduled-job
    registry until RQ's scheduler moves it back to the queue. The pool starts
    each worker with the scheduler on, and the first to take the scheduler's
    lock forks a process that polls the registry once a second. Here the pool's
    own loop, which wakes once a second to check its workers, does that poll
    (``RQScheduler.acquire_locks``, which takes or refreshes the lock, then
    ``enqueue_scheduled_jobs``), and the workers run without a scheduler
    (``MessageWorker.work``): no scheduler process to outlive a killed worker
    holding the lock, and no process idling in ``time.sleep``, which the
    contract suite's count of work in progress would take for work.
    """

    _scheduler: RQScheduler | None = None
    _unreachable = False

    def check_workers(self, respawn: bool = True) -> None:
        """Start workers where some died (RQ's), then enqueue the retries that are due."""
        super().check_workers(respawn)
        if respawn and self.status != self.Status.STOPPED:
            self._schedule()

    def start(self, burst: bool = False, logging_level: str = "INFO") -> None:
        """Run the pool until it is stopped; then give up the scheduler's lock."""
        try:
            super().start(burst, logging_level)
        finally:
            if self._scheduler is not None:
                # Else the lock expires by itself (RQ: after 61 s).
                with contextlib.suppress(redis.exceptions.RedisError):
                    self._scheduler.release_locks()  # type: ignore[no-untyped-call]

    def _schedule(self) -> None:
        if self._scheduler is None:
            self._scheduler = RQScheduler(
                self._queue_names, connection=self.connection, serializer=self.serializer
            )
        try:
            # RQ's scheduler is untyped.
            if self._scheduler.acquire_locks():  # type: ignore[no-untyped-call]
                self._scheduler.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]
        except redis.exceptions.RedisError as error:
            # The workers say so too; the pool goes on and tries again next second.
            if not self._unreachable:
                logger.warning("Could not enqueue the retries that are due: %s", error)
            self._unreachable = True
        else:
            self._unreachable = False

"""RQ's worker pool: it runs RQ's scheduler itself, and hands a dead worker's job back at once."""

from __future__ import annotations

import contextlib
import logging

import redis
from rq.exceptions import NoSuchJobError
from rq.executions import WORKER_EXECUTIONS_KEY_TEMPLATE
from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler
from rq.utils import parse_composite_key
from rq.worker_pool import WorkerData, WorkerPool

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

    A worker that the pool finds dead (killed, out of memory) is running
    nothing: its job is handed to RQ's own handling of an abandoned job at
    once (``_abandon``), instead of when its lease expires (its time limit plus
    ``BGREF_VISIBILITY_TIMEOUT``). A pool that dies with its workers leaves
    their jobs to the lease, as RQ does.
    """

    _scheduler: RQScheduler | None = None
    _unreachable = False

    def check_workers(self, respawn: bool = True) -> None:
        """Start workers where some died (RQ's), then enqueue the retries that are due."""
        super().check_workers(respawn)
        if respawn and self.status != self.Status.STOPPED:
            self._schedule()

    def handle_dead_worker(self, worker_data: WorkerData) -> None:
        """Forget the dead worker (RQ's), then hand back the job it was running."""
        super().handle_dead_worker(worker_data)
        try:
            self._abandon(worker_data.name)
        except redis.exceptions.RedisError as error:
            # Its lease expires in time, and another worker's maintenance retries it.
            logger.warning(
                "Could not hand back the job of dead worker %s: %s", worker_data.name, error
            )

    def _abandon(self, name: str) -> None:
        # RQ records each running job as "<job id>:<execution id>" in the
        # started-job registry, scored by its lease's end, and in the set of
        # its worker's executions. Ending the dead worker's leases now and
        # cleaning up only those runs RQ's own path (StartedJobRegistry.cleanup):
        # the job is retried if it has retries left, else failed as abandoned.
        executions = [
            entry.decode() if isinstance(entry, bytes) else entry
            for entry in self.connection.smembers(WORKER_EXECUTIONS_KEY_TEMPLATE.format(name))
        ]
        if not executions:
            return
        for queue_name in self._queue_names:
            registry = StartedJobRegistry(
                queue_name,
                connection=self.connection,
                job_class=self.job_class,
                serializer=self.serializer,
            )
            # Score 1 (1970): expired, and below every live lease.
            ended: dict[str, float] = dict.fromkeys(executions, 1)
            if self.connection.zadd(registry.key, ended, xx=True, ch=True):
                for entry in executions:
                    self._report(name, parse_composite_key(entry)[0])
                registry.cleanup(timestamp=1)

    def _report(self, name: str, job_id: str) -> None:
        try:
            job = self.job_class.fetch(
                job_id, connection=self.connection, serializer=self.serializer
            )
        except NoSuchJobError:
            return
        if job.retries_left:
            logger.warning("Worker %s died running job %s: retrying it at once", name, job_id)
        else:
            # RQ's default for a job queued without retries (the lab's).
            logger.warning(
                "Worker %s died running job %s: failed as abandoned (AbandonedJobError),"
                " kept in the failed-job registry, not run again",
                name,
                job_id,
            )

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

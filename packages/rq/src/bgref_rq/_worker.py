"""RQ's SimpleWorker (no fork per job), its waits for a dead worker's job set by one setting."""

from __future__ import annotations

import time
from typing import Any

from redis.client import Pipeline
from rq import SimpleWorker
from rq.defaults import DEFAULT_WORKER_TTL
from rq.job import Job

from ._settings import Settings

__all__ = ["MessageWorker"]


class MessageWorker(SimpleWorker):
    """``rq.SimpleWorker`` whose recovery waits follow ``BGREF_VISIBILITY_TIMEOUT``.

    RQ's default ``Worker`` forks a work horse per job: a fork, a new Redis
    connection and an exit for every message. RQ's notes on performance
    (docs/benchmark.md) advise ``SimpleWorker`` when jobs take single-digit
    milliseconds, the fork is a proven bottleneck, and the job code is trusted:
    all three hold here (one log line; see the package README; the worker runs
    ``write_message`` only). RQ's worker pool builds its workers itself and
    passes no such options, so they are set here.

    Its own bookkeeping costs fewer round trips: RQ's worker sends its
    heartbeat (three commands, each a round trip) three times per job and
    records its state (one more) three times per job, the same state twice in a
    row; here a heartbeat goes in one round trip, at most once a second outside
    a job's own pipeline, and a state is sent only when it changes.
    """

    _beat_at = -1.0
    _sent_state: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._margin = Settings.from_env().seconds
        # How often this worker looks for abandoned jobs (the started-job
        # registry, the intermediate list) and retries them. RQ: 10 minutes.
        kwargs.setdefault("maintenance_interval", self._margin)
        # An idle worker runs its maintenance only when its blocking dequeue
        # times out, after worker_ttl - 15 s (RQ: 405 s): an abandoned job
        # would wait that long on a quiet queue.
        kwargs.setdefault("worker_ttl", min(DEFAULT_WORKER_TTL, self._margin + 15))
        # The users' messages are not copied into the worker's log.
        kwargs.setdefault("log_job_description", False)
        super().__init__(*args, **kwargs)

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        """RQ's heartbeat, in one round trip, and skipped within a second of the last one.

        Its expiry (``worker_ttl`` + 60 s) is far longer than the second; a
        job's own lease is renewed in the pipeline that starts it, never skipped.
        """
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)
            return
        moment = time.monotonic()
        if timeout is None and moment - self._beat_at < 1.0:
            return
        self._beat_at = moment
        with self.connection.pipeline(transaction=False) as batch:
            super().heartbeat(timeout, pipeline=batch)
            batch.execute()

    def set_state(self, state: str, pipeline: Pipeline | None = None) -> None:
        """Record the worker's state in Redis, unless it is the one last recorded."""
        if pipeline is None and state == self._sent_state:
            self._state = state
            return
        self._sent_state = state
        super().set_state(state, pipeline=pipeline)

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """RQ's worker loop, without a scheduler of its own: the pool runs it (``MessagePool``)."""
        kwargs["with_scheduler"] = False
        return bool(super().work(*args, **kwargs))

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        """How long a started job stays recorded without its worker: its timeout plus the margin.

        A SimpleWorker sends no heartbeat while its job runs, so this must cover
        the whole job; RQ adds a fixed 60 s, here the visibility timeout. The
        job is killed at its timeout, so it is never retried while it runs.
        """
        if job.timeout == -1:
            return DEFAULT_WORKER_TTL
        return int(job.timeout or DEFAULT_WORKER_TTL) + self._margin

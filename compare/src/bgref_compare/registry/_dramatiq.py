"""Dramatiq's entry: a FastAPI front that enqueues, Dramatiq worker processes on Redis."""

from __future__ import annotations

from ._schema import Impl, Process
from ._uvicorn import _UVICORN

__all__ = ["DRAMATIQ"]

DRAMATIQ = Impl(
    id="dramatiq",
    summary="FastAPI front that enqueues; Dramatiq worker processes on Redis do the work",
    model="worker-queue",
    mechanism=(
        "Each send-message queues a Dramatiq message in Redis before answering (the "
        "messages of concurrent requests in one MULTI/EXEC from a publishing thread), "
        "and the worker processes that do the writes share the server's CPU with the "
        "web process."
    ),
    # A broker round trip per request, as Celery's front (packages/dramatiq/README.md).
    ratio_target=0.5,
    versions=("fastapi", "starlette", "uvicorn", "dramatiq", "redis"),
    package="bgref-dramatiq",
    path="packages/dramatiq",
    processes=(
        Process("web", (*_UVICORN, "bgref_dramatiq.web:create_app")),
        # Dramatiq's own worker command, its pool sized from BGREF_WORKERS.
        Process(
            "worker",
            ("{python}", "-m", "bgref_dramatiq"),
            ready="output:Worker process is ready for action.",
        ),
    ),
    needs_redis=True,
    survives_web_crash=True,
    workers_env="BGREF_WORKERS",
    # bgref_dramatiq's Settings: 2 processes of 1 thread each.
    default_workers=2,
    workers_noun="worker processes",
    # Dramatiq's Retries middleware retries a failed write until it lands.
    retries_writes=True,
    # Dramatiq's Redis broker: the heartbeat timeout of a dead worker process.
    visibility_timeout_env="BGREF_VISIBILITY_TIMEOUT",
    # The queue (message ids), the message bodies, which Dramatiq deletes on
    # acknowledgement only, and the bodies of the delay queue (retries).
    broker_queue="dramatiq:default",
    broker_backlog=(
        ("LLEN", "dramatiq:default"),
        ("HLEN", "dramatiq:default.msgs"),
        ("HLEN", "dramatiq:default.DQ.msgs"),
    ),
    # An idle Dramatiq consumer backs off between fetches up to worker_timeout
    # (dramatiq.worker.WORKER_TIMEOUT, 1,000 ms by default).
    idle_poll_s=1.0,
    # Dramatiq's worker stops as a whole when one of its processes dies.
    replaces_dead_pool_process=False,
    raw_push="bgref_dramatiq._wire:push",
)

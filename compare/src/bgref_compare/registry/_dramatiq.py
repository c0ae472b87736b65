"""Dramatiq's entry: a FastAPI front that enqueues, Dramatiq worker processes on Redis."""

from __future__ import annotations

from ._schema import Impl, Process, Variant
from ._uvicorn import _UVICORN

__all__ = ["DRAMATIQ"]

DRAMATIQ = Impl(
    id="dramatiq",
    summary="FastAPI front that enqueues; Dramatiq worker processes on Redis do the work",
    model="worker-queue",
    mechanism=(
        "Each send-message is in Redis before it is answered: the messages of concurrent "
        "requests ride in one Dramatiq message (up to 32) from a publishing thread, and "
        "the worker processes that fetch, decode, write and acknowledge it share the "
        "server's CPU with the web process."
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
    # Dramatiq's Retries middleware retries a failed write until it lands (a
    # group's messages not yet written, as a new message).
    retries_writes=True,
    # Dramatiq's Redis broker: the heartbeat timeout of a dead worker process.
    visibility_timeout_env="BGREF_VISIBILITY_TIMEOUT",
    # The queue (message ids), the message bodies, which Dramatiq deletes on
    # acknowledgement only, and the bodies of the delay queue (retries).
    # bgref_message.queue.MAX_GROUP: the messages of one Dramatiq message,
    # redelivered together when their worker process dies mid-group.
    messages_per_job=32,
    # The actor refuses a group of more than MAX_GROUP (bgref_dramatiq._actor).
    refuses_larger_jobs=True,
    # An actor slow to write its group queues the rest in pieces for the other
    # worker processes (packages/dramatiq/src/bgref_dramatiq/_actor.py, _hand_off).
    slow_groups="hand-off",
    broker_queue="dramatiq:default",
    broker_backlog=(
        ("LLEN", "dramatiq:default"),
        ("HLEN", "dramatiq:default.msgs"),
        ("HLEN", "dramatiq:default.DQ.msgs"),
    ),
    # An idle Dramatiq consumer backs off between fetches up to worker_timeout
    # (dramatiq.worker.WORKER_TIMEOUT, 1,000 ms by default; bgref_dramatiq's
    # worker command sets 100 ms).
    idle_poll_s=0.1,
    # Dramatiq's worker stops as a whole when one of its processes dies.
    replaces_dead_pool_process=False,
    raw_push="bgref_dramatiq._wire:push",
    variants=(
        Variant(
            "send",
            "/lab/send/",
            "`write_message.send(message)` from a plain `def` endpoint, one Dramatiq "
            "message per request, the broker on Dramatiq's and redis-py's defaults "
            "(Redis down: a 500 at once; frozen: a 500 once redis-py's 5 s read timeout ends)",
            "Dramatiq's README, Quickstart (`count_words.send(url)`); redis.io, Redis "
            "with Dramatiq (`RedisBroker(url=...)`, `@dramatiq.actor`, `.send`)",
            # Acknowledged after the write and redelivered after a dead worker's
            # heartbeat timeout, as the implementation: nothing lost that the
            # contract does not allow; a broker outage is a 500 or a hung
            # request instead of the contract's 503 (packages/dramatiq/README.md).
            benchmarked=True,
            # One message per request shows in throughput; its backlog above capacity.
            shows_at=("above",),
        ),
    ),
)

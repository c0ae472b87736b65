"""Celery's entry: a FastAPI front that enqueues, Celery workers on Redis, and variants.

The only entry with a broker: its Redis queue, the commands that tell the broker
idle and the raw-push hook of the trust-boundary tests are declared here.
"""

from __future__ import annotations

from ._schema import WORKER_CHILD_SIGKILL, Impl, Process, Variant
from ._uvicorn import _UVICORN

__all__ = ["CELERY"]

# Celery's worker with gossip, mingle and heartbeats off, in its default pool.
_WORKER = (
    "{python}",
    "-m",
    "celery",
    "--app",
    "bgref_celery.worker:app",
    "worker",
    "--loglevel",
    "INFO",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
)
_READY = "output: ready."
# The docs' worker: Celery's default pool, a process per task slot. The
# tutorial's losses are those of its pool's children.
_PREFORK = Process("worker", _WORKER, ready=_READY)

CELERY = Impl(
    id="celery",
    summary="FastAPI front that enqueues; Celery workers on Redis do the work",
    model="worker-queue",
    mechanism=(
        "Each send-message is published to Redis before answering, the messages of "
        "concurrent requests in one Celery task (a round trip and kombu's serialisation "
        "per task); the worker, whose threads do the writes, shares the server's CPU "
        "with the web process."
    ),
    # A broker round trip per request (grouped, see packages/celery/README.md).
    ratio_target=0.5,
    versions=("fastapi", "starlette", "uvicorn", "celery", "kombu", "billiard", "redis"),
    package="bgref-celery",
    path="packages/celery",
    processes=(
        Process("web", (*_UVICORN, "bgref_celery.web:create_app")),
        # Celery's threads pool: the tasks wait on a file, and a pool of
        # processes adds two pipe hops to each (packages/celery/README.md).
        Process("worker", (*_WORKER, "--pool", "threads"), ready=_READY, pool=False),
    ),
    needs_redis=True,
    survives_web_crash=True,
    workers_env="BGREF_WORKERS",
    # bgref_celery's Settings.workers: the threads of the worker's pool.
    default_workers=2,
    workers_noun="worker threads",
    retries_writes=True,
    visibility_timeout_env="BGREF_VISIBILITY_TIMEOUT",
    messages_per_job=32,
    # The task refuses a group of more than MAX_GROUP (bgref_celery._tasks).
    refuses_larger_jobs=True,
    # A task slow to write its group queues the rest in pieces for the other
    # pool processes (packages/celery/src/bgref_celery/_tasks.py, _hand_off).
    slow_groups="hand-off",
    # kombu's queue, its record of messages delivered and not acknowledged, and
    # the lists that bgref_celery's transport takes messages into
    # (packages/celery/src/bgref_celery/_transport.py), here one of a consumer
    # that no longer exists (orphan_take).
    broker_queue="celery",
    broker_backlog=(("LLEN", "celery"), ("HLEN", "unacked"), ("KEYS", "bgref.processing:*")),
    orphan_take=("LMOVE", "celery", "bgref.processing:0123456789abcdef:celery", "RIGHT", "LEFT"),
    raw_push="bgref_celery._wire:push",
    variants=(
        Variant(
            "delay",
            "/lab/delay/",
            "`write_log.delay(message)` from a plain `def` endpoint, one task per "
            "message, Celery's default (early) acknowledgement",
            "Celery docs, First Steps with Celery (calling the task); "
            "testdriven.io, Asynchronous Tasks with FastAPI and Celery",
            claims_contract=False,
            worker=_PREFORK,
            loses={
                WORKER_CHILD_SIGKILL: "the running task was acknowledged when it "
                "started: killed, it is never run again"
            },
            fault_log="WorkerLostError",
            benchmarked=True,
            # One publish per request shows in throughput; its backlog above capacity.
            shows_at=("above",),
        ),
        Variant(
            "delay-acks-late",
            "/lab/delay-acks-late/",
            "the same with `acks_late=True` and `reject_on_worker_lost=True`",
            "Celery docs, Tasks: acks_late and reject_on_worker_lost; FAQ, “Should I "
            "use retry or acks_late?”",
            worker=_PREFORK,
            benchmarked=True,
            shows_at=("above",),
        ),
    ),
)

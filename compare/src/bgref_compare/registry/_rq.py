"""RQ's entry: a FastAPI front that enqueues, RQ's worker pool of SimpleWorkers on Redis.

Its Redis keys (the queue, the lists and registries a job passes through), the
raw-push hook of the trust-boundary tests, the one setting that brings a
dead worker's job back, and the docs' way (one job per message) are declared here.
"""

from __future__ import annotations

from ._schema import WORKER_CHILD_SIGKILL, Impl, Process, Variant
from ._uvicorn import _UVICORN

__all__ = ["RQ"]

RQ = Impl(
    id="rq",
    summary="FastAPI front that enqueues; RQ's worker pool on Redis does the work",
    model="worker-queue",
    mechanism=(
        "Each send-message is queued in Redis before answering, the messages of concurrent "
        "requests in one RQ job; RQ's worker processes take one job at a time each, with "
        "a few milliseconds of bookkeeping per job (its hash, status, registries and "
        "execution record), and share the server's CPU with the web process."
    ),
    # A broker round trip per request (grouped, see packages/rq/README.md).
    ratio_target=0.5,
    versions=("fastapi", "starlette", "uvicorn", "rq", "redis"),
    package="bgref-rq",
    path="packages/rq",
    processes=(
        Process("web", (*_UVICORN, "bgref_rq.web:create_app")),
        # RQ's worker pool (`rq worker-pool`), sized from BGREF_WORKERS.
        Process("worker", ("{python}", "-m", "bgref_rq"), ready="output:Listening on"),
    ),
    needs_redis=True,
    survives_web_crash=True,
    workers_env="BGREF_WORKERS",
    # bgref_rq's Settings.workers: SimpleWorkers in the pool, one job at a time each.
    default_workers=2,
    workers_noun="worker processes",
    # A failed write is retried with backoff, about 14 minutes, through RQ's
    # scheduler (Retry with intervals); then the job fails for good.
    retries_writes=True,
    # bgref_message.queue.MAX_GROUP: the messages of concurrent requests in one job,
    # written again together if their worker dies mid-job.
    messages_per_job=32,
    # A job slow to write its group queues the rest in pieces for the other
    # workers of the pool (packages/rq/src/bgref_rq/_group.py, hand_off).
    slow_groups="hand-off",
    # The job timeout, the margin after it before a silent worker's job counts as
    # abandoned, the intermediate list's floor, the maintenance interval: all
    # four, which RQ fixes at 180 s, 60 s, a minute and 10 minutes.
    visibility_timeout_env="BGREF_VISIBILITY_TIMEOUT",
    # RQ's queue, the intermediate list a worker takes jobs into, the started-job
    # registry, and the scheduled retries.
    broker_queue="rq:queue:default",
    broker_backlog=(
        ("LLEN", "rq:queue:default"),
        ("LLEN", "rq:queue:default:intermediate"),
        ("ZCARD", "rq:wip:default"),
        ("ZCARD", "rq:scheduled:default"),
    ),
    # A consumer that died between taking a job into its intermediate list and
    # recording it as started leaves its id there.
    orphan_take=("LMOVE", "rq:queue:default", "rq:queue:default:intermediate", "LEFT", "RIGHT"),
    raw_push="bgref_rq._wire:push",
    # MessageJob refuses a group of more than MAX_GROUP.
    refuses_larger_jobs=True,
    variants=(
        Variant(
            "enqueue",
            "/lab/enqueue/",
            "`queue.enqueue(write_message, message)` from a plain `def` endpoint, one job "
            "per message, RQ's defaults (no retry, 180 s job timeout) and redis-py's "
            "(5 s socket timeout): Redis frozen or down answers a plain-text 500, after "
            "5 s or at once, where the contract answers 503",
            "RQ docs, Queues (`q = Queue(connection=Redis())`, `q.enqueue(...)`); "
            "testdriven.io, Asynchronous Tasks with Flask and Redis Queue",
            claims_contract=False,
            loses={
                WORKER_CHILD_SIGKILL: "the running job has no retries: RQ fails it as "
                "abandoned and keeps it in the failed-job registry, never run again "
                "by itself (`rq requeue`)"
            },
            fault_log="failed as abandoned",
            benchmarked=True,
            # One job per request shows in throughput; its backlog above capacity.
            shows_at=("above",),
        ),
    ),
)

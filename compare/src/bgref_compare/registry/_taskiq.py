"""Taskiq's entry: an async FastAPI front that kicks into a Redis stream, `taskiq worker`.

Its queue is a Redis stream read by a consumer group (packages/taskiq/README.md):
the commands that tell the broker idle and the raw-push hook of the
trust-boundary tests are declared here, as Celery's are in ``_celery.py``.
"""

from __future__ import annotations

from ._schema import Impl, Process, Variant
from ._uvicorn import _UVICORN

__all__ = ["TASKIQ"]

TASKIQ = Impl(
    id="taskiq",
    summary=(
        "async FastAPI front that kicks tasks into a Redis stream; "
        "`taskiq worker` processes do the work"
    ),
    model="worker-queue",
    mechanism=(
        "Each send-message joins the messages of concurrent requests in one taskiq task "
        "(up to 32) that `kiq` adds to a Redis stream (an async XADD) before answering; "
        "the worker processes that read, write and acknowledge each task (XACK and XDEL) "
        "share the server's CPU with the web process."
    ),
    # A broker round trip per group of requests, as Celery's.
    ratio_target=0.5,
    versions=("fastapi", "starlette", "uvicorn", "taskiq", "taskiq-redis", "redis"),
    package="bgref-taskiq",
    path="packages/taskiq",
    processes=(
        Process("web", (*_UVICORN, "bgref_taskiq.web:create_app")),
        # `taskiq worker` with the settings from the environment (BGREF_WORKERS
        # processes); each logs the ready line once it reads the stream.
        Process(
            "worker",
            ("{python}", "-m", "bgref_taskiq.worker"),
            ready="output: consuming bgref-taskiq as ",
        ),
    ),
    needs_redis=True,
    survives_web_crash=True,
    workers_env="BGREF_WORKERS",
    # BGREF_WORKERS' default. Each process runs up to BGREF_CONCURRENCY tasks at
    # once that await their work, so workers ÷ work time understates its
    # capacity: see jobs_per_worker.
    default_workers=2,
    workers_noun="worker processes",
    # BGREF_CONCURRENCY's default (`taskiq worker --max-async-tasks`).
    jobs_per_worker=100,
    # Its processes await the simulated work (asyncio.sleep) in their event loop.
    mid_task_wchan="epoll_wait",
    retries_writes=True,
    # The web kicks the messages of concurrent requests as one task
    # (bgref_message.queue.MAX_GROUP): a task redelivered after its worker
    # wrote it and died unacknowledged writes them all again.
    messages_per_job=32,
    # A task's writes await at once when the write awaits (a delay, an fsync):
    # its group takes as long as one write, in the one worker process that took
    # it, and nothing is handed off (packages/taskiq/src/bgref_taskiq/_tasks.py).
    slow_groups="concurrent",
    # XAUTOCLAIM's min-idle-time: a message left unacknowledged this long (its
    # worker died, or its write kept failing) is taken over by another worker.
    visibility_timeout_env="BGREF_IDLE_TIMEOUT",
    # An entry is deleted once acknowledged (XACK and XDEL in one MULTI), so
    # the stream's length is what is queued, taken and not yet acknowledged.
    broker_backlog=(("XLEN", "bgref-taskiq"),),
    # What a consumer that read one entry and then died leaves: the entry in the
    # group's pending list under a name no live worker has.
    orphan_take=(
        *("XREADGROUP", "GROUP", "bgref-taskiq-workers", "dead", "COUNT", "1"),
        *("STREAMS", "bgref-taskiq", ">"),
    ),
    raw_push="bgref_taskiq._wire:push",
    # The boundary (_boundary.read_job) refuses a group of more than MAX_GROUP.
    refuses_larger_jobs=True,
    variants=(
        Variant(
            "kiq",
            "/lab/kiq/",
            "`await write_message.kiq(message)` from an `async def` endpoint, one task per "
            "message, on a `RedisStreamBroker` built from the URL alone: no deadline and no "
            "breaker beyond redis-py's defaults (a 5 s socket timeout in redis-py 8: with "
            "Redis frozen every request waits 5 s for a 500; Redis down is a 500, not a 503); "
            "the same workers write and acknowledge each task, so it loses nothing the "
            "contract does not",
            "taskiq docs, Getting started (`await my_task.kiq(...)`) and Framework "
            "integrations (FastAPI); taskiq-redis README (RedisStreamBroker)",
            benchmarked=True,
            # One kick and one task per request shows in throughput; its backlog above capacity.
            shows_at=("above",),
        ),
    ),
)

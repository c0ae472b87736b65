"""Taskiq's entry: an async FastAPI front that kicks into a Redis stream, `taskiq worker`.

Its queue is a Redis stream read by a consumer group (packages/taskiq/README.md):
the commands that tell the broker idle and the raw-push hook of the
trust-boundary tests are declared here, as Celery's are in ``_celery.py``.
"""

from __future__ import annotations

from ._schema import Impl, Process
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
        "Each send-message adds one taskiq message to a Redis stream (`kiq`, an async "
        "XADD) before answering; the worker processes that read, write and acknowledge "
        "each message (XACK and XDEL) share the server's CPU with the web process."
    ),
    # A broker round trip per request, as Celery's.
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
)

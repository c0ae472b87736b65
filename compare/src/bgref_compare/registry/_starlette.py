"""Starlette's entry: a response's `BackgroundTask` under uvicorn, and its variants.

Its pitfall lab (a task with no reference kept, a middleware, a task that raises,
a short grace period) is served by the same package, so it is declared here.
"""

from __future__ import annotations

from ._schema import GC, SIGTERM, TASK_ERROR, Impl, Process, Variant
from ._uvicorn import _UVICORN

__all__ = ["STARLETTE"]

STARLETTE = Impl(
    id="starlette",
    summary="a Starlette response with `background=BackgroundTask(...)`, uvicorn",
    model="event-loop",
    mechanism=(
        "The same mechanism as FastAPI without FastAPI's dependency injection and "
        "response validation, so both paths are cheaper and the task is a larger share."
    ),
    versions=("starlette", "uvicorn", "httptools", "uvloop"),
    package="bgref-starlette",
    path="packages/starlette",
    processes=(Process("web", (*_UVICORN, "bgref_starlette:create_app")),),
    trace_env="BGREF_TRACE",
    starts_after_answer=True,
    retries_writes=True,
    holds_writes=True,
    variants=(
        Variant(
            "create-task",
            "/lab/create-task/",
            "`asyncio.create_task(...)` with no reference kept (fire and forget); "
            "the lab collects garbage every 10 ms",
            "asyncio docs, create_task: “Save a reference to the result of this "
            "function, to avoid a task disappearing mid-execution”; fastapi#2086",
            claims_contract=False,
            loses={GC: "a pending task nothing refers to may be collected, its message lost"},
            benchmarked=True,
            # Pending tasks (and what the collector takes) pile up above capacity.
            shows_at=("above",),
        ),
        Variant(
            "middleware",
            "/lab/middleware/",
            "a `BackgroundTask` behind a pass-through `BaseHTTPMiddleware`",
            "starlette#919, starlette#2658, fastapi#4616; Starlette docs, Middleware "
            "(BaseHTTPMiddleware)",
            benchmarked=True,
            shows_at=("above",),
        ),
        Variant(
            "tasks-one-raises",
            "/lab/tasks-one-raises/",
            "`BackgroundTasks` with two tasks: one that raises, then the write",
            "Starlette docs, Background Tasks (BackgroundTasks, several tasks run "
            "in order); starlette discussion #1584 (a task that raises stops the rest)",
            claims_contract=False,
            loses={
                TASK_ERROR: "the write, queued after a task that raises, never runs; "
                "uvicorn logs the error and closes the connection, under the "
                "client's next request on it"
            },
            fault_log="lab: the notification before the write failed",
        ),
        Variant(
            "short-grace",
            "/send-message/",
            "the implementation under `--timeout-graceful-shutdown 1`, shorter than "
            "the pending work",
            "Uvicorn docs, Settings (--timeout-graceful-shutdown)",
            claims_contract=False,
            loses={SIGTERM: "tasks still running when the grace period ends are cancelled"},
            web_args=("--timeout-graceful-shutdown", "1"),
        ),
    ),
)

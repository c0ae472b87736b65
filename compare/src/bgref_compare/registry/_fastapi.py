"""FastAPI's entry: `BackgroundTasks.add_task` under uvicorn, and its variants.

The tutorial's ways to write the endpoint (a `def` task, the “wrong way”, a task
using a `yield` dependency) are served by the same package beside the contract's
routes, so they are declared here with it.
"""

from __future__ import annotations

from ._schema import ANSWER_WAITS, Impl, Process, Variant
from ._uvicorn import _UVICORN

__all__ = ["FASTAPI"]

FASTAPI = Impl(
    id="fastapi",
    summary="FastAPI `BackgroundTasks.add_task`, uvicorn",
    model="event-loop",
    mechanism=(
        "After the response, Starlette runs the task in the same ASGI call, on the event "
        "loop. The task queues the line; the lines of one loop iteration share one "
        "`os.write` (`awrite_soon`): a system call per message costs more than the task "
        "itself (packages/starlette/README.md)."
    ),
    versions=("fastapi", "starlette", "uvicorn", "httptools", "uvloop"),
    package="bgref-fastapi",
    path="packages/fastapi",
    processes=(Process("web", (*_UVICORN, "bgref_fastapi:create_app")),),
    trace_env="BGREF_TRACE",
    starts_after_answer=True,
    retries_writes=True,
    holds_writes=True,
    variants=(
        Variant(
            "def-task",
            "/right-way/",
            "plain `def` task, run in the thread pool (the tutorial's advice)",
            "FastAPI docs, Background Tasks: https://fastapi.tiangolo.com/tutorial/background-tasks/",
            benchmarked=True,
        ),
        Variant(
            "wrong-way",
            "/wrong-way/",
            "the work called inside an `async def` endpoint, blocking the event loop "
            "(the tutorial's “wrong way”)",
            "FastAPI docs, Concurrency and async / await: https://fastapi.tiangolo.com/async/",
            claims_contract=False,
            loses={ANSWER_WAITS: "the client waits for the work, and so does every request"},
            benchmarked=True,
            # Its client waits for the work: shown below capacity.
            shows_at=("below",),
        ),
        Variant(
            "async-blocking",
            "/lab/async-blocking/",
            "`async def` task calling the blocking `write` (`time.sleep`)",
            "fastapi#1313 (a blocking call in an async background task)",
            benchmarked=True,
        ),
        Variant(
            "def-endpoint",
            "/lab/def-endpoint/",
            "the work called inside a plain `def` endpoint, which FastAPI runs in its "
            "thread pool: the client waits, the event loop does not",
            "FastAPI docs, Concurrency and async / await (path operation functions "
            "declared with def): https://fastapi.tiangolo.com/async/",
            claims_contract=False,
            loses={ANSWER_WAITS: "the client waits for the work (in the thread pool)"},
            benchmarked=True,
            # Its client waits for the work: shown below capacity.
            shows_at=("below",),
        ),
        Variant(
            "yield-dependency",
            "/lab/yield-dependency/",
            "a background task that uses the session of a `yield` dependency "
            "(the session logs any use after its cleanup)",
            "FastAPI docs, Dependencies with yield and background tasks; fastapi#2866; "
            "release notes of 0.106.0 (exit code before the tasks) and 0.118.0 "
            "(after the response again)",
            fault_log="lab session used after its cleanup",
        ),
    ),
)

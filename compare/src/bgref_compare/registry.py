"""The implementations of the send-message contract, declared as data in one place.

The contract suite, the nox sessions and the comparison harness all read this
module, so it must stay importable with the standard library alone (nox loads
it from outside any project environment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["IMPLS", "IMPL_IDS", "Impl", "Model", "Process", "get", "order"]

# Served by uvicorn's usual flags; the placeholders are filled in by the runner.
_UVICORN = (
    "{python}",
    "-m",
    "uvicorn",
    "--factory",
    "--host",
    "127.0.0.1",
    "--port",
    "{port}",
    "--no-access-log",
    "--log-level",
    "warning",
    # Uvicorn waits for in-flight responses, background tasks included, on SIGTERM.
    "--timeout-graceful-shutdown",
    "30",
)


# How an approach does the work after the response. The report's advice has one
# paragraph per model, so a new approach joins the paragraph of its kind:
# "event-loop": a task on the web process's event loop; "thread-pool": pool
# threads inside the web process; "worker-queue": worker processes behind a broker.
Model = Literal["event-loop", "thread-pool", "worker-queue"]


@dataclass(frozen=True)
class Process:
    """One process of an implementation and how to tell that it is ready.

    ``argv`` may use ``{python}`` (the interpreter of the running environment)
    and ``{port}`` (the free loopback port picked for the web process).
    ``ready`` is ``"http"`` (``GET /healthz`` answers 200) or ``"output:<text>"``
    (the text appears in the process's combined output).
    """

    name: str
    argv: tuple[str, ...]
    ready: str = "http"


@dataclass(frozen=True)
class Impl:
    """One implementation of the contract, and how it differs from the others."""

    id: str
    package: str
    path: str
    processes: tuple[Process, ...]
    # Needs a Redis broker; the runner passes REDIS_URL.
    needs_redis: bool = False
    # Acknowledged work survives a SIGKILL of the web process (it left the process
    # before the 200 was sent). False means such work is lost by design.
    survives_web_crash: bool = False
    # The environment variable that sets how many background workers run
    # (pool threads, worker processes); None if the approach has no such knob.
    workers_env: str | None = None
    # The environment variable that bounds, per web process, how many messages
    # wait for a background worker; a full queue answers 503. None if unbounded.
    queue_size_env: str | None = None
    # A failed background write is retried (by a durable queue, or by linelog's
    # bounded retry, see holds_writes) rather than logged and dropped at once.
    retries_writes: bool = False
    # A write that fails for a reason that may pass is held in the web process
    # and retried within linelog's bounds (LOG_RETRY_SECONDS, LOG_RETRY_LINES),
    # and /healthz answers 503 meanwhile: lines held past a bound are lost.
    holds_writes: bool = False
    # The environment variable that sets, in seconds, how soon a message taken by
    # a worker that died comes back to the queue; None without a broker.
    visibility_timeout_env: str | None = None
    # The most messages one background job carries (the Celery web groups
    # messages into one task): what one job run twice can duplicate.
    messages_per_job: int = 1
    # "module:function" in the implementation's package that queues a raw job
    # straight into its broker's Redis, in the queue's own wire format, as any
    # local client could: push(redis_url, args, kwargs, *, task, encoding) -> the
    # id the worker's log names it by (see bgref_celery._wire). The trust-boundary
    # tests load it; None without a broker.
    raw_push: str | None = None
    # Environment that makes the web server recycle its worker processes after
    # ``{n}`` requests; None if the server has no such setting.
    recycle_env: dict[str, str] | None = None
    # Environment that sets, in ``{s}`` seconds, how long a stopping web server may
    # take to finish its queued work before it is killed, and the text it logs when
    # work is still unwritten at that deadline; None where no such setting exists.
    grace_env: dict[str, str] | None = None
    drain_overrun_log: str | None = None
    # How many processes serve HTTP by default (gunicorn's ``workers``). Above one,
    # they share one listening socket and each keeps the connections it accepted,
    # so which connections a client reuses decides which processes work: the
    # comparison measures such a server over a set of connections that every
    # process holds a share of, and a client that reuses its hottest connections
    # as a finding of its own.
    web_processes: int = 1
    # The default of ``workers_env``: background workers that each do one message
    # at a time, in every web process when ``workers_per_web_process``. With slow
    # work the theoretical capacity is
    #     workers × (web_processes if workers_per_web_process else 1) ÷ work time;
    # None where the work awaits instead of holding a worker (no such bound).
    default_workers: int | None = None
    workers_per_web_process: bool = False
    # What one worker is, for the report's formula.
    workers_noun: str = "workers"
    # Extra routes outside the contract, for the comparison's pitfall lab:
    # variant name -> path answering like /send-message/.
    variants: dict[str, str] = field(default_factory=dict)
    # How the work is done (see ``Model``).
    model: Model = "event-loop"
    # Why the approach costs what it costs, a sentence or two for the report; the
    # figures printed beside it are measured.
    mechanism: str = ""
    # The send-message/baseline throughput ratio it should keep; the report marks a miss.
    ratio_target: float = 0.9
    # The distributions besides its own package whose versions can move its
    # figures (framework, server, broker client): every run records them.
    versions: tuple[str, ...] = ()

    @property
    def web(self) -> Process:
        """The process that serves HTTP (always the first one)."""
        return self.processes[0]


IMPLS: tuple[Impl, ...] = (
    Impl(
        id="fastapi",
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
        retries_writes=True,
        holds_writes=True,
        variants={
            # The tutorial's advice: a plain `def` task, run in the thread pool.
            "def-task": "/right-way/",
            # The tutorial's "wrong way": the work runs inside the request.
            "wrong-way": "/wrong-way/",
            # An `async def` task that blocks the event loop with time.sleep.
            "async-blocking": "/lab/async-blocking/",
            # The work inline in a plain `def` endpoint: in the thread pool, so the
            # client waits for it but the event loop does not.
            "def-endpoint": "/lab/def-endpoint/",
        },
    ),
    Impl(
        id="starlette",
        model="event-loop",
        mechanism=(
            "The same mechanism as FastAPI without FastAPI's dependency injection and "
            "response validation, so both paths are cheaper and the task is a larger share."
        ),
        versions=("starlette", "uvicorn", "httptools", "uvloop"),
        package="bgref-starlette",
        path="packages/starlette",
        processes=(Process("web", (*_UVICORN, "bgref_starlette:create_app")),),
        retries_writes=True,
        holds_writes=True,
    ),
    Impl(
        id="flask",
        model="thread-pool",
        mechanism=(
            "The request thread only puts the message on a bounded queue; a pool thread "
            "does the write. The per-request cost of the WSGI stack dwarfs the hand-off."
        ),
        versions=("flask", "werkzeug", "gunicorn"),
        package="bgref-flask",
        path="packages/flask",
        processes=(
            Process(
                "web",
                (
                    "{python}",
                    "-m",
                    "gunicorn",
                    "--config",
                    "python:bgref_flask.gunicorn_conf",
                    "--bind",
                    "127.0.0.1:{port}",
                    "bgref_flask:create_app()",
                ),
            ),
        ),
        workers_env="BGREF_WORKERS",
        queue_size_env="BGREF_QUEUE_SIZE",
        retries_writes=True,
        holds_writes=True,
        # bgref_flask.gunicorn_conf's ``workers`` and bgref_flask's DEFAULT_WORKERS
        # (compare/tests/test_capacity.py checks both against the package).
        web_processes=2,
        default_workers=4,
        workers_per_web_process=True,
        workers_noun="pool threads",
        # Gunicorn reads extra command-line flags from GUNICORN_CMD_ARGS.
        recycle_env={"GUNICORN_CMD_ARGS": "--max-requests {n} --max-requests-jitter 10"},
        grace_env={"GUNICORN_CMD_ARGS": "--graceful-timeout {s}"},
        drain_overrun_log="work pool not drained",
    ),
    Impl(
        id="celery",
        model="worker-queue",
        mechanism=(
            "Each send-message publishes a Celery message to Redis (a network round trip and "
            "kombu's serialisation) before answering, and the worker processes that do the "
            "writes share the server's CPU with the web process."
        ),
        # A broker round trip per request (grouped, see packages/celery/README.md).
        ratio_target=0.5,
        versions=("fastapi", "starlette", "uvicorn", "celery", "kombu", "billiard", "redis"),
        package="bgref-celery",
        path="packages/celery",
        processes=(
            Process("web", (*_UVICORN, "bgref_celery.web:create_app")),
            Process(
                "worker",
                (
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
                ),
                ready="output: ready.",
            ),
        ),
        needs_redis=True,
        survives_web_crash=True,
        workers_env="BGREF_WORKERS",
        # bgref_celery's Settings.workers: the worker's prefork pool.
        default_workers=2,
        workers_noun="worker processes",
        retries_writes=True,
        visibility_timeout_env="BGREF_VISIBILITY_TIMEOUT",
        messages_per_job=32,
        raw_push="bgref_celery._wire:push",
    ),
)

IMPL_IDS: tuple[str, ...] = tuple(impl.id for impl in IMPLS)


def order(impl_id: str) -> int:
    """Where ``impl_id`` comes in tables and charts: the registry's order, unknown ids last."""
    return IMPL_IDS.index(impl_id) if impl_id in IMPL_IDS else len(IMPL_IDS)


def get(impl_id: str) -> Impl:
    """Return the implementation registered under ``impl_id``."""
    for impl in IMPLS:
        if impl.id == impl_id:
            return impl
    raise KeyError(f"unknown implementation {impl_id!r}; known: {', '.join(IMPL_IDS)}")

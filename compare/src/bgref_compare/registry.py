"""The implementations of the send-message contract, declared as data in one place.

The contract suite, the nox sessions and the comparison harness all read this
module, so it must stay importable with the standard library alone (nox loads
it from outside any project environment).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = [
    "ANSWER_WAITS",
    "FAULTS",
    "GC",
    "IMPLS",
    "IMPL_IDS",
    "SIGTERM",
    "STRIKES",
    "TASK_ERROR",
    "USE_AFTER_CLEANUP",
    "WORKER_CHILD_SIGKILL",
    "Impl",
    "Model",
    "Process",
    "Variant",
    "get",
    "order",
]

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


# What a variant loses or duplicates by design, each named by the fault that
# causes it: the contract suite measures every one that a variant declares.
# A SIGTERM of the web server while acknowledged work is pending.
SIGTERM = "sigterm"
# A SIGKILL of the worker child process running a task (Celery's prefork pool).
WORKER_CHILD_SIGKILL = "worker-child-sigkill"
# A garbage collection while a task nothing refers to is still pending.
GC = "gc"
# One of the response's background tasks raising an exception.
TASK_ERROR = "task-error"
# Not a loss: the work uses a resource after its cleanup has run.
USE_AFTER_CLEANUP = "use-after-cleanup"
# Not a loss: the client waits for the work (it runs before the answer).
ANSWER_WAITS = "answer-waits"
FAULTS = (SIGTERM, WORKER_CHILD_SIGKILL, GC, TASK_ERROR, USE_AFTER_CLEANUP, ANSWER_WAITS)
# Those that strike while work is pending and can lose it (the others are not losses).
STRIKES = (SIGTERM, WORKER_CHILD_SIGKILL, GC, TASK_ERROR)


@dataclass(frozen=True)
class Variant:
    """A way to write the same endpoint outside the contract: how people usually write it.

    ``path`` answers like ``/send-message/`` (same validation, same 200 body).
    ``source`` says where the pattern comes from (docs, issue, tutorial).
    ``claims_contract``: every acknowledged message is written exactly once, after
    the answer, with nothing lost at idle; False when the variant breaks that by design.
    ``loses`` maps each fault of ``FAULTS`` to what the variant loses or
    duplicates under it, by design: the contract suite measures each one.
    ``fault_log`` is the text the server logs each time the declared fault
    happens, where it logs one.
    ``web_args`` are appended to the web process's command (the last value of
    an option wins), for variants that are a server setting, not a route.
    ``benchmarked``: the comparison's scenarios run it (throughput, slow work).
    ``shows_at``: the slow-work loads (``"below"``, ``"above"`` its capacity) that
    show how it differs from the implementation: the shorter profiles run only
    those (``Profile.every_load``), the reference profile every load.
    The faults it is put through are ``Impl.variant_faults``.
    """

    name: str
    path: str
    description: str
    source: str
    claims_contract: bool = True
    loses: dict[str, str] = field(default_factory=dict)
    fault_log: str | None = None
    web_args: tuple[str, ...] = ()
    benchmarked: bool = False
    shows_at: tuple[str, ...] = ("below", "above")


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
    # The environment variable naming a file to which every process that takes or
    # does work appends the contract suite's test trace (docs/contract.md, Test
    # trace): ``open``/``close`` around each unit of work in flight, ``answered``
    # and ``work`` per request. None if it records none; the suite then judges
    # idleness by the broker alone.
    trace_env: str | None = None
    # The work starts only after the answer's last body chunk was handed to the
    # server (Starlette's background tasks); the suite checks it in the trace.
    starts_after_answer: bool = False
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
    # The Redis list the web pushes messages to and the workers consume; None
    # without a broker.
    broker_queue: str | None = None
    # Redis commands that all answer 0 or an empty list once the broker holds no
    # message that is queued, or taken by a worker and not yet acknowledged.
    broker_backlog: tuple[tuple[str, ...], ...] = ()
    # A list in which a consumer that died between taking a message and recording
    # it would leave the message; None where a taken message is never outside the
    # broker's own records (the test that strands one there does not apply).
    orphan_list: str | None = None
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
    # Request threads per web process (gunicorn's ``threads``): how many requests
    # one process serves at a time. None where an event loop serves every
    # connection it holds at once.
    request_threads: int | None = None
    # The idiomatic and the pitfall versions of the approach, served by the same
    # package beside the contract's routes (see Variant).
    variants: tuple[Variant, ...] = ()
    # How the work is done after the response, in a few words: the README's table
    # of the approaches (its ``implementations`` block) is rendered from it.
    summary: str = ""
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

    def variant(self, name: str) -> Variant:
        """Return the variant called ``name``."""
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(f"{self.id} has no variant {name!r}")

    def variant_faults(self, variant: Variant) -> tuple[str, ...]:
        """The faults of ``STRIKES`` that ``variant`` is put through, in that order.

        Each one it declares it loses; a SIGTERM of the web server also where this
        variant claims the contract and a sibling declares the loss (the contrast:
        what the setting buys), unless the work has left the web process by the
        answer (``survives_web_crash``); the SIGKILL of a worker child wherever
        there is a worker process. The contract suite and the fault matrix both
        read this.
        """
        found: list[str] = []
        for fault in STRIKES:
            if fault == SIGTERM:
                contrast = variant.claims_contract and any(
                    SIGTERM in v.loses for v in self.variants
                )
                applies = not self.survives_web_crash and (fault in variant.loses or contrast)
            elif fault == WORKER_CHILD_SIGKILL:
                applies = any(p.ready != "http" for p in self.processes)
            else:
                applies = fault in variant.loses
            if applies:
                found.append(fault)
        return tuple(found)

    def serving(self, variant: Variant) -> Impl:
        """This implementation with its web process started as ``variant`` needs."""
        if not variant.web_args:
            return self
        web = replace(self.web, argv=(*self.web.argv, *variant.web_args))
        return replace(self, processes=(web, *self.processes[1:]))


IMPLS: tuple[Impl, ...] = (
    Impl(
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
    ),
    Impl(
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
    ),
    Impl(
        id="flask",
        summary="Flask, a bounded thread pool with a bounded queue, gunicorn (gthread)",
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
        trace_env="BGREF_TRACE",
        retries_writes=True,
        holds_writes=True,
        # bgref_flask.gunicorn_conf's ``workers`` and bgref_flask's DEFAULT_WORKERS
        # (compare/tests/test_capacity.py checks both against the package).
        web_processes=2,
        default_workers=4,
        workers_per_web_process=True,
        workers_noun="pool threads",
        # bgref_flask.gunicorn_conf's ``threads`` (gthread workers).
        request_threads=4,
        # Gunicorn reads extra command-line flags from GUNICORN_CMD_ARGS.
        recycle_env={"GUNICORN_CMD_ARGS": "--max-requests {n} --max-requests-jitter 10"},
        grace_env={"GUNICORN_CMD_ARGS": "--graceful-timeout {s}"},
        drain_overrun_log="work pool not drained",
        variants=(
            Variant(
                "thread-daemon",
                "/lab/thread-daemon/",
                "`threading.Thread(target=..., daemon=True).start()` per request: "
                "no bound, no drain",
                "The Flask Mega-Tutorial, Part X: Email Support (a thread per email); "
                "Python docs, threading: daemon threads are abruptly stopped at shutdown",
                claims_contract=False,
                loses={SIGTERM: "threads still running when the worker exits are killed"},
                benchmarked=True,
                # Its unbounded threads (or backlog) show above capacity.
                shows_at=("above",),
            ),
            Variant(
                "thread",
                "/lab/thread/",
                "`threading.Thread(target=...).start()` per request (non-daemon): "
                "no bound, no drain",
                "The Flask Mega-Tutorial, Part X: Email Support (a thread per email)",
                benchmarked=True,
                shows_at=("above",),
            ),
        ),
    ),
    Impl(
        id="celery",
        summary="FastAPI front that enqueues; Celery workers on Redis do the work",
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
        # kombu's queue, its record of messages delivered and not acknowledged, and
        # the lists that bgref_celery's transport takes messages into
        # (packages/celery/src/bgref_celery/_transport.py), here one of a consumer
        # that no longer exists.
        broker_queue="celery",
        broker_backlog=(("LLEN", "celery"), ("HLEN", "unacked"), ("KEYS", "bgref.processing:*")),
        orphan_list="bgref.processing:0123456789abcdef:celery",
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
                benchmarked=True,
                shows_at=("above",),
            ),
        ),
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

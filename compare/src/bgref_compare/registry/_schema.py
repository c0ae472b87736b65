"""The registry's schema: what an implementation, its processes and its variants declare.

Every entry (``_fastapi.py`` and its siblings) is an ``Impl`` built from these
dataclasses, and the contract suite, the nox sessions and the harness read the
same fields; the faults a variant may declare it loses are named here once.
Standard library only, like the rest of the registry (nox loads it by path).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

__all__ = [
    "ANSWER_WAITS",
    "FAULTS",
    "GC",
    "SIGTERM",
    "STRIKES",
    "TASK_ERROR",
    "USE_AFTER_CLEANUP",
    "WORKER_CHILD_SIGKILL",
    "Impl",
    "Model",
    "Process",
    "SlowGroups",
    "Variant",
]


# How an approach does the work after the response. The report's advice has one
# paragraph per model, so a new approach joins the paragraph of its kind:
# "event-loop": a task on the web process's event loop; "thread-pool": pool
# threads inside the web process; "worker-queue": worker processes behind a broker.
Model = Literal["event-loop", "thread-pool", "worker-queue"]

# How a worker keeps one job of many messages (``Impl.messages_per_job``) whose
# writes are slow from holding one worker while the others idle: "hand-off",
# after 0.2 s on one job the messages not yet written go back to the queue in
# pieces, one for each worker, and the job ends; "concurrent", the job's writes
# all await at once in its worker's event loop, so the job takes about as long
# as one write. Either way each message is written once.
SlowGroups = Literal["hand-off", "concurrent"]


@dataclass(frozen=True)
class Process:
    """One process of an implementation and how to tell that it is ready.

    ``argv`` may use ``{python}`` (the interpreter of the running environment)
    and ``{port}`` (the free loopback port picked for the web process).
    ``ready`` is ``"http"`` (``GET /healthz`` answers 200) or ``"output:<text>"``
    (the text appears in the process's combined output).
    ``pool``: a worker process runs its tasks in child processes of its own
    (a pool), whose SIGKILL mid-task is a fault of its own; False where it runs
    them in its threads or on its event loop.
    """

    name: str
    argv: tuple[str, ...]
    ready: str = "http"
    pool: bool = True


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
    ``worker`` replaces the worker process of the same name where the variant's
    faults are struck (its contract tests and fault rows), for variants whose
    worker runs as the docs run it and the implementation's does not: the
    throughput and slow-work scenarios measure every path on the
    implementation's own stack.
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
    worker: Process | None = None
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
    # How a job of several messages whose writes are slow is shared out (see
    # ``SlowGroups``); None where a job carries one message.
    slow_groups: SlowGroups | None = None
    # The most jobs one background worker runs at once: 1 for a thread or a pool
    # process; an async worker process overlaps many that await their work
    # (taskiq's --max-async-tasks). With messages_per_job, what a crash of one
    # worker, or of the broker under it, can leave written but unacknowledged.
    jobs_per_worker: int = 1
    # How long an idle worker may sleep before it looks for new work again
    # (Dramatiq's consumers back off up to its worker_timeout, 1 s): queued work
    # may wait that long for an idle worker to notice it; 0 for a worker that
    # blocks on the broker or is handed the work.
    idle_poll_s: float = 0.0
    # What a worker's pool process waits in while mid-task, as /proc/<pid>/wchan
    # names it, where the work is awaited: an async worker waits in its event
    # loop's epoll, idle or not, so only a burst in progress makes it mid-task.
    # None: asleep in the simulated work (time.sleep), which no idle process is.
    mid_task_wchan: str | None = None
    # The Redis list the web pushes messages to and the workers consume; None
    # without a broker.
    broker_queue: str | None = None
    # Redis commands that all answer 0 or an empty list once the broker holds no
    # message that is queued, or taken by a worker and not yet acknowledged.
    broker_backlog: tuple[tuple[str, ...], ...] = ()
    # The Redis command that takes one queued message the way a consumer would
    # that then died before it recorded or acknowledged it (into a list of its
    # own, or a stream group's pending list under a consumer name no worker
    # has); the message must come back. None where a taken message is never
    # outside the broker's own records (the test that strands one does not apply).
    orphan_take: tuple[str, ...] | None = None
    # "module:function" in the implementation's package that queues a raw job
    # straight into its broker's Redis, in the queue's own wire format, as any
    # local client could: a ``RawPush`` (push(redis_url, args, kwargs, *, task,
    # group, encoding) -> the id the worker's log names it by; see
    # bgref_celery._wire). The trust-boundary tests load it; None without a broker.
    raw_push: str | None = None
    # The worker refuses a job of more than ``messages_per_job`` messages, which
    # the web never queues: one pushed past the web is dropped like any other
    # bad job, so the duplicates a job run twice can leave stay within that
    # bound. False where the worker writes a group of any length it is given.
    refuses_larger_jobs: bool = False
    # A worker whose pool process is killed starts a new one and goes on (Celery's
    # prefork pool). False: the whole worker stops, as Dramatiq's does, for its
    # supervisor to start again; the fault test restarts it.
    replaces_dead_pool_process: bool = True
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
    def messages_at_once(self) -> int:
        """The most messages one worker works on at once: 1 unless its work is awaited.

        An async worker runs ``jobs_per_worker`` jobs at once, and where a job's
        messages await their writes together (``slow_groups="concurrent"``), each
        of its messages: one such process is not busy for a message's work time.
        """
        together = self.messages_per_job if self.slow_groups == "concurrent" else 1
        return self.jobs_per_worker * together

    @property
    def held_per_worker(self) -> int:
        """The most messages one worker holds written, not acknowledged: what it can duplicate."""
        return self.jobs_per_worker * self.messages_per_job

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
        there is a worker process with a pool. The contract suite and the fault
        matrix both read this.
        """
        found: list[str] = []
        for fault in STRIKES:
            if fault == SIGTERM:
                contrast = variant.claims_contract and any(
                    SIGTERM in v.loses for v in self.variants
                )
                applies = not self.survives_web_crash and (fault in variant.loses or contrast)
            elif fault == WORKER_CHILD_SIGKILL:
                applies = self.serving(variant).pool_workers
            else:
                applies = fault in variant.loses
            if applies:
                found.append(fault)
        return tuple(found)

    def serving(self, variant: Variant) -> Impl:
        """This implementation with its processes started as ``variant`` needs."""
        if not variant.web_args and variant.worker is None:
            return self
        web = replace(self.web, argv=(*self.web.argv, *variant.web_args))
        others = tuple(
            variant.worker if variant.worker and p.name == variant.worker.name else p
            for p in self.processes[1:]
        )
        return replace(self, processes=(web, *others))

    @property
    def pool_workers(self) -> bool:
        """Whether a worker process runs its tasks in a pool of child processes."""
        return any(p.ready != "http" and p.pool for p in self.processes[1:])

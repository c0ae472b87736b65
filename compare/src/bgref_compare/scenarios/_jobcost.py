"""What a queued message costs, taken apart: the web alone, then the workers alone.

The throughput ratio of a worker queue is low (RQ 0.33, Celery 0.42 in the
reference run of 2026-12-02) and the CPU split says where the CPU went while
the web and the workers shared one CPU. It cannot say what a message would
cost with fuller jobs, nor whether the web or the workers could be made cheap
enough for a target. This measures it another way, in two stretches on one
stack:

1. the workers frozen (SIGSTOP), closed loops on ``/baseline/`` and on
   ``/send-message/``: the web and Redis alone answer, and queue the jobs;
   the broker says how many jobs the messages made (the registry's first
   ``broker_backlog`` command: none is taken while the workers are frozen);
2. the workers thawed, nothing else running: the CPU they and Redis use until
   every message is in the log is what the jobs cost them, per job and per
   message.

The ratio the parts imply is the web's CPU per baseline request over the sum
of a message's parts: the ratio the stack would have if every message cost
what it cost here. In each stretch only its own processes run on the servers'
CPU, and the workers drain a full queue, never idle: the parts are what a
message costs at best, so an implied ratio under a target says the target is
out of reach with jobs of that size, and one above the measured ratio is what
the web and the workers lose by sharing the CPU: the switches between them,
the caches, and the size of the jobs, which the web makes from the requests
that arrive during a publish, and so differently alone.

The throughput scenario runs it on its drained stack after its repetitions
(``job_cost`` in a run's result; ``Profile.job_cost_seconds``).
``python -m bgref_compare jobs IMPL`` runs it at 32 connections (the
throughput scenario's) and at 64, where the web's jobs fill up to their size.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bgref_compare.loadgen._bench import Bench, CpuPlan, RunningStack
from bgref_compare.loadgen._usage import ServerUsage
from bgref_compare.registry import Impl
from bgref_compare.stack._polling import wait_until
from bgref_compare.stack._rawredis import redis_call

from ._cpusplit import SliceCpu, measure_cpu
from ._paths import BASELINE_PATH, SEND_PATH

__all__ = ["JobCost", "job_cost", "job_cost_lines", "measure_job_cost", "web_us"]

# How long the workers may take to write what the web queued.
_DRAIN_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class JobCost:
    """One run: what the web queued with its workers frozen, and what they then spent."""

    connections: int
    messages: int
    jobs: int
    # CPU seconds while the web queued (workers frozen): the web's processes, Redis.
    web_s: float
    redis_queue_s: float
    # CPU seconds while the workers wrote it all (the web idle): workers, Redis.
    workers_s: float
    redis_drain_s: float
    drain_wall_s: float
    # The web's CPU per baseline request, µs, the workers frozen as well.
    baseline_us: float

    @property
    def per_job(self) -> float:
        """Messages per job."""
        return self.messages / self.jobs if self.jobs else 0.0

    def us(self, seconds: float) -> float:
        """CPU seconds as µs per message."""
        return seconds / self.messages * 1e6 if self.messages else 0.0

    @property
    def message_us(self) -> float:
        """A message's server CPU, all parts."""
        return self.us(self.web_s + self.redis_queue_s + self.workers_s + self.redis_drain_s)

    @property
    def implied_ratio(self) -> float:
        """The throughput ratio these costs imply: a baseline request's CPU over a message's."""
        return self.baseline_us / self.message_us if self.message_us else 0.0

    def to_json(self) -> dict[str, Any]:
        """As plain data for a throughput run's result (``job_cost``)."""
        return {
            "connections": self.connections,
            "messages": self.messages,
            "jobs": self.jobs,
            "per_job": round(self.per_job, 1),
            "us": {
                "web": round(self.us(self.web_s), 1),
                "redis, queuing": round(self.us(self.redis_queue_s), 1),
                "workers": round(self.us(self.workers_s), 1),
                "redis, writing": round(self.us(self.redis_drain_s), 1),
                "all": round(self.message_us, 1),
            },
            "workers_us_per_job": round(self.workers_s / self.jobs * 1e6) if self.jobs else 0,
            "drain_s": round(self.drain_wall_s, 2),
            "baseline_us": round(self.baseline_us, 1),
            "implied_ratio": round(self.implied_ratio, 3),
        }


def job_cost(
    impl: Impl, *, connections: tuple[int, ...] = (32, 64), seconds: float = 3.0
) -> list[JobCost]:
    """Measure ``impl`` once per number of connections, each on a fresh stack."""
    if not impl.broker_backlog:
        raise ValueError(f"{impl.id} queues no jobs in a broker")
    costs = []
    with tempfile.TemporaryDirectory(prefix="bgref-jobs-") as work:
        bench = Bench(Path(work), CpuPlan.detect())
        for count in connections:
            with bench.stack(impl, delay_ms=0.0) as running:
                cost = measure_job_cost(bench, running, count, seconds)
                if cost is None:
                    raise ValueError(f"{impl.id}: its broker is not the stack's own Redis")
                costs.append(cost)
    return costs


def measure_job_cost(
    bench: Bench, running: RunningStack, connections: int, seconds: float
) -> JobCost | None:
    """Take a message's CPU apart on ``running``, idle and drained; None without its own broker.

    The baseline request is measured as the web's part is, with the workers
    frozen: a worker that polls Redis while idle slows the web down (the
    caches, the switches) as much as the CPU it takes, and the parts are each
    measured alone. A shared Redis (``REDIS_URL``) is not measured: its CPU
    and its commands are not the stack's alone.
    """
    impl = running.impl
    if not impl.broker_backlog or running.redis is None:
        return None
    url = running.redis.url
    named = running.named_pids()
    web = _web_names(impl)
    workers = tuple((name, pid) for name, pid in named if name not in web and name != "redis")
    # The first backlog command counts what waits in the queue: with every
    # worker frozen, all that the web queues but the job each worker's blocking
    # fetch, already waiting in Redis when it froze, was handed (one in hundreds).
    waiting = impl.broker_backlog[0]
    # Counted from here on: the scenario's own load left its lines before.
    written_lines = _NewLines(running.log_path)
    with _frozen([pid for _, pid in workers]):
        baseline = measure_cpu(bench, running, BASELINE_PATH, seconds, connections)
        jobs_before = int(str(redis_call(url, *waiting)))
        queued = measure_cpu(bench, running, SEND_PATH, seconds, connections, drain=False)
        jobs = int(str(redis_call(url, *waiting))) - jobs_before
        usage = ServerUsage((*workers, ("redis", running.redis.process.pid)), url)
        before = usage.read()
        started = time.monotonic()
    written = wait_until(lambda: written_lines.count() >= queued.requests, _DRAIN_TIMEOUT_S)
    drain_wall = time.monotonic() - started
    drained = usage.since(before)
    if not written:
        raise RuntimeError(
            f"{impl.id}: {written_lines.count()} of {queued.requests} messages "
            f"written {_DRAIN_TIMEOUT_S:g} s after the workers were thawed"
        )
    return JobCost(
        connections=connections,
        messages=queued.requests,
        jobs=jobs,
        web_s=_seconds(queued, lambda name: name in web),
        redis_queue_s=_seconds(queued, lambda name: name == "redis"),
        workers_s=sum(s for name, _, s in drained.cpu if name != "redis"),
        redis_drain_s=sum(s for name, _, s in drained.cpu if name == "redis"),
        drain_wall_s=drain_wall,
        baseline_us=web_us(baseline, impl),
    )


def web_us(piece: SliceCpu, impl: Impl) -> float:
    """The web's processes' CPU per request of ``piece``, in µs."""
    if not piece.requests:
        return 0.0
    web = _web_names(impl)
    return _seconds(piece, lambda name: name in web) / piece.requests * 1e6


def _web_names(impl: Impl) -> set[str]:
    # The names RunningStack.named_pids gives the web server and its children.
    return {impl.web.name, f"{impl.web.name} child"}


@contextlib.contextmanager
def _frozen(pids: list[int]) -> Iterator[None]:
    """SIGSTOP ``pids``, and SIGCONT them however the block ends."""
    stopped = []
    try:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
        yield
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


class _NewLines:
    """Counts the lines appended to a log since it was made, reading each byte once.

    The throughput scenario's log holds its repetitions' lines by then: read
    whole at every poll, it would cost the drain being measured I/O and CPU.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = path.stat().st_size if path.exists() else 0
        self._count = 0

    def count(self) -> int:
        """Lines appended so far."""
        try:
            with self._path.open("rb") as log:
                log.seek(self._offset)
                chunk = log.read()
        except FileNotFoundError:
            return self._count
        # Up to the last full line: a line being written is counted once whole.
        end = chunk.rfind(b"\n") + 1
        self._count += chunk.count(b"\n", 0, end)
        self._offset += end
        return self._count


def _seconds(piece: SliceCpu, chosen: Callable[[str], bool]) -> float:
    return sum(p.seconds for p in piece.processes if chosen(p.name))


def job_cost_lines(impl: Impl, costs: list[JobCost]) -> list[str]:
    """A plain-text table: per run, the parts of a message's CPU and the ratio they imply."""
    lines = [
        f"{impl.id}: a message's server CPU, queued with the workers frozen, then written "
        "by them alone (µs per message)"
    ]
    for cost in costs:
        lines += [
            "",
            f"{cost.connections} connections: {cost.messages:,} messages in {cost.jobs:,} jobs "
            f"({cost.per_job:.1f} a job), written in {cost.drain_wall_s:.1f} s",
            f"  web            {cost.us(cost.web_s):7.1f}   (a baseline request: "
            f"{cost.baseline_us:.1f})",
            f"  redis, queuing {cost.us(cost.redis_queue_s):7.1f}",
            f"  workers        {cost.us(cost.workers_s):7.1f}   "
            f"({cost.workers_s / cost.jobs * 1e6 if cost.jobs else 0.0:,.0f} a job)",
            f"  redis, writing {cost.us(cost.redis_drain_s):7.1f}",
            f"  all            {cost.message_us:7.1f}   implied ratio {cost.implied_ratio:.2f}",
        ]
    return lines

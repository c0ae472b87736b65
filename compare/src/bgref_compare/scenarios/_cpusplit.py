"""Where the server's CPU goes: every process's share while one path is under load.

A throughput ratio says how much slower ``/send-message/`` is than the
baseline, not why, and a ratio that moves between machines (Celery's went
from 0.60 to 0.44 with the same code, packages/celery/README.md) needs a
second measurement before anyone explains it. This one reads the kernel's
accounting of CPU time (user plus system) for every process of the stack:
the web process, worker processes and their pool children, and the private
Redis, during closed loops that alternate between the two paths. The stack is
pinned as the comparison pins it, so the shares are of the same CPU.

``python -m bgref_compare cpu IMPL`` prints one table per path; the throughput
scenario measures one slice of each path after its repetitions (``cpu_us``), so
that the report can say where a send-message's CPU goes.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from bgref_compare.loadgen._bench import Bench, CpuPlan, RunningStack, new_run_id
from bgref_compare.loadgen._loadgen import LoadSpec, Phase
from bgref_compare.registry import Impl
from bgref_compare.stack._rawredis import redis_call

from ._paths import BASELINE_PATH, SEND_PATH

__all__ = ["ProcessCpu", "SliceCpu", "cpu_split", "measure_cpu", "per_request", "split_lines"]


@dataclass(frozen=True)
class ProcessCpu:
    """The CPU time that the processes of one name used during one slice."""

    name: str
    count: int
    seconds: float


@dataclass(frozen=True)
class SliceCpu:
    """One closed loop on one path: requests answered, wall time, each process's CPU."""

    path: str
    requests: int
    wall_s: float
    processes: tuple[ProcessCpu, ...]
    # Redis commands run during the slice, by name (empty without a broker).
    redis_calls: dict[str, int]

    @property
    def rps(self) -> float:
        """Requests answered per second."""
        return self.requests / self.wall_s if self.wall_s else 0.0


def _named_processes(running: RunningStack) -> Iterator[tuple[str, psutil.Process]]:
    # A process of the registry by its name, its descendants as "<name> child".
    for name, managed in running.stack.processes.items():
        if not managed.running:
            continue
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(managed.pid)
            yield name, root
            for child in root.children(recursive=True):
                yield f"{name} child", child
    if running.redis is not None and running.redis.process.running:
        with contextlib.suppress(psutil.Error):
            yield "redis", psutil.Process(running.redis.process.pid)


def _cpu_seconds(proc: psutil.Process) -> float | None:
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)


def _redis_calls(running: RunningStack) -> dict[str, int]:
    if running.redis is None:
        return {}
    info = redis_call(running.redis.url, "INFO", "commandstats")
    text = info.decode() if isinstance(info, bytes) else str(info)
    calls: dict[str, int] = {}
    for line in text.splitlines():
        # cmdstat_lpush:calls=708,usec=...
        if line.startswith("cmdstat_") and "calls=" in line:
            name, _, fields = line.partition(":")
            count = fields.split(",", 1)[0].partition("=")[2]
            calls[name.removeprefix("cmdstat_")] = int(count)
    return calls


def measure_cpu(
    bench: Bench, running: RunningStack, path: str, seconds: float, connections: int = 32
) -> SliceCpu:
    """One closed loop on ``path`` for ``seconds`` (and its drain): each process's CPU."""
    procs = list(_named_processes(running))
    before = {proc.pid: _cpu_seconds(proc) for _, proc in procs}
    calls_before = _redis_calls(running)
    writes = path != BASELINE_PATH
    phase = Phase(path, path, seconds, connections, writes=writes, drain=writes)
    spec = LoadSpec("", 0, new_run_id(), (phase,), drain_timeout_s=120.0)
    outcome = bench.load(running, spec, timeout=seconds * 3 + 180)
    result = outcome.phases[0]
    # Processes of one name (a pool's children) are summed: which child got the work is chance.
    used: dict[str, ProcessCpu] = {}
    for name, proc in procs:
        start, end = before[proc.pid], _cpu_seconds(proc)
        if start is not None and end is not None:
            known = used.get(name)
            count, total = (known.count, known.seconds) if known else (0, 0.0)
            used[name] = ProcessCpu(name, count + 1, round(total + end - start, 3))
    calls_after = _redis_calls(running)
    calls = {
        name: count - calls_before.get(name, 0)
        for name, count in calls_after.items()
        if count > calls_before.get(name, 0) and name not in ("info",)
    }
    requests = int(result["ok"])
    # The slice's length as the load generator counted it; the drain that follows
    # a writing path is CPU spent on its requests too, so it is counted in.
    wall = float(result["seconds"]) + float(result.get("drain_s") or 0.0)
    return SliceCpu(path, requests, wall, tuple(used.values()), calls)


def cpu_split(impl: Impl, *, seconds: float = 8.0, rounds: int = 2) -> list[SliceCpu]:
    """Load ``impl``'s send-message and baseline in turn, ``rounds`` times; each slice's CPU."""
    slices: list[SliceCpu] = []
    with tempfile.TemporaryDirectory(prefix="bgref-cpu-") as work:
        bench = Bench(Path(work), CpuPlan.detect())
        with bench.stack(impl, delay_ms=0.0) as running:
            for _ in range(rounds):
                for path in (SEND_PATH, BASELINE_PATH):
                    slices.append(measure_cpu(bench, running, path, seconds))
    return slices


def per_request(piece: SliceCpu) -> dict[str, float]:
    """Each process name's CPU per request answered, in µs, largest first, and ``all``."""
    if not piece.requests:
        return {}
    costs = {
        proc.name if proc.count == 1 else f"{proc.name} x{proc.count}": round(
            proc.seconds / piece.requests * 1e6, 1
        )
        for proc in sorted(piece.processes, key=lambda p: -p.seconds)
    }
    costs["all"] = round(sum(p.seconds for p in piece.processes) / piece.requests * 1e6, 1)
    return costs


def split_lines(impl: Impl, slices: list[SliceCpu]) -> list[str]:
    """A plain-text table per slice: each process's CPU seconds, share and µs per request."""
    lines = [f"{impl.id}: server CPU by process (closed loop, 32 connections)"]
    for piece in slices:
        lines.append("")
        lines.append(
            f"{piece.path}: {piece.requests:,} requests, {piece.rps:,.0f}/s, "
            f"{piece.wall_s:.1f} s with the drain"
        )
        total = sum(p.seconds for p in piece.processes)
        for proc in sorted(piece.processes, key=lambda p: -p.seconds):
            per_request = proc.seconds / piece.requests * 1e6 if piece.requests else 0.0
            share = proc.seconds / piece.wall_s * 100 if piece.wall_s else 0.0
            name = proc.name if proc.count == 1 else f"{proc.name} x{proc.count}"
            lines.append(
                f"  {name:<14} {proc.seconds:7.2f} s  {share:5.1f}% of a CPU  "
                f"{per_request:7.1f} µs/request"
            )
        per_request = total / piece.requests * 1e6 if piece.requests else 0.0
        lines.append(
            f"  {'all':<14} {total:7.2f} s  {total / piece.wall_s * 100:5.1f}% of a CPU  "
            f"{per_request:7.1f} µs/request"
        )
        if piece.redis_calls:
            top = sorted(piece.redis_calls.items(), key=lambda kv: -kv[1])[:6]
            lines.append("  redis: " + ", ".join(f"{name} {count:,}" for name, count in top))
    return lines

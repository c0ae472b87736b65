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
scenario reads the same over every slice of its repetitions (``cpu_us``), so
that the report says where a send-message's CPU goes in the very slices its
ratio comes from. The load generator reads the kernel at each slice's edges
(``loadgen/_usage.py``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bgref_compare.loadgen._bench import Bench, CpuPlan, RunningStack, new_run_id
from bgref_compare.loadgen._loadgen import LoadSpec, Phase
from bgref_compare.registry import Impl

from ._paths import BASELINE_PATH, SEND_PATH

__all__ = [
    "ProcessCpu",
    "SliceCpu",
    "combine",
    "cpu_split",
    "measure_cpu",
    "per_request",
    "split_lines",
]


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

    @classmethod
    def of_phase(cls, result: dict[str, Any]) -> SliceCpu | None:
        """The slice that a phase's result describes, if it watched the server (``server``)."""
        server = result.get("server")
        if server is None:
            return None
        # The slice's length as the load generator counted it; the drain that follows
        # a writing path is CPU spent on its requests too, so it is counted in.
        wall = float(result["seconds"]) + float(result.get("drain_s") or 0.0)
        return cls(
            result["path"],
            int(result["ok"]),
            wall,
            tuple(ProcessCpu(name, count, seconds) for name, count, seconds in server["cpu_s"]),
            dict(server["redis_calls"]),
        )

    @property
    def busy(self) -> float:
        """How much of one CPU the server's processes used, on average (1.0: all of it)."""
        return sum(p.seconds for p in self.processes) / self.wall_s if self.wall_s else 0.0


def combine(slices: list[SliceCpu]) -> SliceCpu:
    """Slices of one path as one: requests, time, CPU and Redis's calls added up."""
    used: dict[str, ProcessCpu] = {}
    calls: dict[str, int] = {}
    for piece in slices:
        for proc in piece.processes:
            known = used.get(proc.name)
            if known is None:
                used[proc.name] = proc
            else:
                used[proc.name] = ProcessCpu(
                    proc.name, max(known.count, proc.count), known.seconds + proc.seconds
                )
        for name, count in piece.redis_calls.items():
            calls[name] = calls.get(name, 0) + count
    return SliceCpu(
        slices[0].path if slices else "",
        sum(p.requests for p in slices),
        sum(p.wall_s for p in slices),
        tuple(ProcessCpu(p.name, p.count, round(p.seconds, 3)) for p in used.values()),
        calls,
    )


def measure_cpu(
    bench: Bench,
    running: RunningStack,
    path: str,
    seconds: float,
    connections: int = 32,
    *,
    drain: bool = True,
) -> SliceCpu:
    """A closed loop on ``path`` for ``seconds``, and its drain by default: each process's CPU."""
    writes = path != BASELINE_PATH
    phase = Phase(path, path, seconds, connections, writes=writes, drain=writes and drain)
    spec = LoadSpec("", 0, new_run_id(), (phase,), drain_timeout_s=120.0)
    outcome = bench.load(running, spec, timeout=seconds * 3 + 180, watch_cpu=True)
    piece = SliceCpu.of_phase(outcome.phases[0])
    assert piece is not None, "the load generator watched no server process"
    return piece


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

"""Each phase's state as it runs, and the results summary the generator prints.

The state is filled in by the run loop (``_runner.LoadRunner``); the summary
turns it and the per-request record into the JSON the harness reads: statuses,
latencies, the accounting against the log, completion, drain and backlog. It is
a mixin of ``LoadRunner`` so that the runner's record is read where it lives.
"""

from __future__ import annotations

import asyncio
import math
import os
from array import array
from dataclasses import dataclass, field
from typing import Any

from ._accounting import FAILED, account, count_messages
from ._histogram import LogHistogram
from ._spec import LoadSpec, Phase
from ._stats import cdf_points, percentile, summarize_ms
from ._tail import LogTail
from ._usage import Usage

__all__ = ["PhaseSummary"]


@dataclass
class _PhaseState:
    phase: Phase
    first: int = 0
    last: int = 0  # one past the last sequence number
    start: float = 0.0
    load_end: float = 0.0
    cpu_start: float = 0.0
    cpu_end: float = 0.0
    wall_end: float = 0.0
    dispatch_lag: list[float] = field(default_factory=list)
    backlog: list[tuple[float, int]] = field(default_factory=list)
    drain_s: float | None = None
    drain_complete: bool = True
    cap: int | None = None
    # BALANCED: how many connections of the set each server process held.
    per_process: list[int] | None = None
    # The server's CPU and Redis's commands over the phase and its drain (``LoadSpec.watch``).
    usage: Usage | None = None


class PhaseSummary:
    """The results of a run, from the record of a ``LoadRunner`` (mixed into it)."""

    # The runner's record, one entry per request indexed by its sequence number.
    spec: LoadSpec
    prefix: str
    tail: LogTail | None
    intended: array[float]
    sent: array[float]
    done: array[float]
    status: array[int]

    def _results(self, states: list[_PhaseState]) -> dict[str, Any]:
        counts = None
        foreign = 0
        if self.tail is not None:
            self.tail.poll()
            self.tail.close()
            from bgref_linelog import read_messages

            assert self.spec.log_path is not None
            counts, foreign = count_messages(read_messages(self.spec.log_path), self.prefix)
        phases = [self._phase_result(state, counts) for state in states]
        gaps = sorted(self.tail.gaps) if self.tail is not None else []
        out: dict[str, Any] = {
            "phases": phases,
            "foreign_lines": foreign,
            "tail_poll_ms": {
                "p50": round(percentile(gaps, 0.5) * 1000, 3) if gaps else None,
                "p99": round(percentile(gaps, 0.99) * 1000, 3) if gaps else None,
                "max": round(gaps[-1] * 1000, 3) if gaps else None,
            },
            "uvloop": "uvloop" in type(asyncio.get_running_loop()).__module__,
            "cpu": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        }
        if self.spec.per_request:
            out["per_request"] = {
                "status": list(self.status),
                "elapsed_ms": [
                    None if math.isnan(d - s) else round((d - s) * 1000, 3)
                    for s, d in zip(self.sent, self.done, strict=True)
                ],
            }
        return out

    def _phase_result(self, state: _PhaseState, counts: Any) -> dict[str, Any]:
        phase = state.phase
        seqs = range(state.first, state.last)
        statuses = [self.status[s] for s in seqs]
        result: dict[str, Any] = {
            "label": phase.label,
            "path": phase.path,
            "loop": "closed" if phase.rate is None else "open",
            "concurrency": phase.concurrency,
            "offered_rps": phase.rate,
            "connections": phase.connections,
            "connections_per_process": state.per_process,
            "seconds": round(state.load_end - state.start, 3),
        }
        if state.usage is not None:
            result["server"] = state.usage.to_json()
        by_status: dict[str, int] = {}
        for status in statuses:
            key = str(status) if status != FAILED else "failed"
            by_status[key] = by_status.get(key, 0) + 1
        ok = [s for s in seqs if self.status[s] == 200]
        in_window = sum(1 for s in ok if self.done[s] <= state.load_end)
        duration = max(state.load_end - state.start, 1e-9)
        result["statuses"] = by_status
        # The generator's own CPU use over the load: near 1.0 means it was the bottleneck.
        busy = state.cpu_end - state.cpu_start
        result["loadgen_cpu"] = round(busy / max(state.wall_end - state.start, 1e-9), 3)
        result["rps"] = round(in_window / duration, 1)
        result["latency_ms"] = summarize_ms(self.done[s] - self.intended[s] for s in ok)
        if phase.histogram:
            latencies = ((self.done[s] - self.intended[s]) * 1000 for s in ok)
            result["latency_hist"] = LogHistogram.of(latencies).to_json()
        if phase.rate is not None:
            result["wait_ms"] = summarize_ms(self.sent[s] - self.intended[s] for s in ok)
            lag = sorted(state.dispatch_lag)
            result["dispatch_lag_ms"] = {
                "p99": round(percentile(lag, 0.99) * 1000, 3) if lag else None,
                "max": round(lag[-1] * 1000, 3) if lag else None,
            }
        if counts is None:
            result.update(
                requests=len(statuses),
                ok=len(ok),
                rejected=sum(1 for s in statuses if s not in (200, FAILED)),
                failed=sum(1 for s in statuses if s == FAILED),
            )
            result["errors"] = result["rejected"] + result["failed"]
            return result
        acc = account(list(seqs), statuses, writes=phase.writes, counts=counts)
        result.update(
            requests=acc.requests,
            ok=acc.ok,
            rejected=acc.rejected,
            failed=acc.failed,
            errors=acc.errors,
            lost=acc.lost,
            duplicated=acc.duplicated,
            unexpected=acc.unexpected,
            failed_written=acc.failed_written,
        )
        if phase.writes:
            assert self.tail is not None
            seen = self.tail.seen
            completion = [seen[s] - self.intended[s] for s in ok if s in seen]
            result["completion_ms"] = summarize_ms(completion)
            result["completion_cdf"] = cdf_points(completion)
            window_start = state.start + self.spec.warm_s
            window = max(state.load_end - window_start, 1e-9)
            done_in_window = sum(
                1 for s in seqs if window_start <= seen.get(s, -math.inf) <= state.load_end
            )
            result["completed_rps"] = round(done_in_window / window, 1)
            result["drain_s"] = None if state.drain_s is None else round(state.drain_s, 3)
            result["drain_complete"] = state.drain_complete if phase.drain else None
            result["backlog_max"] = max((n for _, n in state.backlog), default=0)
            result["backlog_cap"] = state.cap
            result["backlog"] = _thin(state.backlog, 150)
        return result


def _thin(points: list[tuple[float, int]], most: int) -> list[tuple[float, int]]:
    if len(points) <= most:
        return points
    step = len(points) / most
    return [points[int(i * step)] for i in range(most)] + [points[-1]]

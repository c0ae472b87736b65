"""The run record: the phases a load generator reports, merged into one ``Run``.

Every scenario measures in phases (repetitions, slices, open-loop legs), and
every one of them records its run from those phases the same way: counts
summed, rates and percentiles as medians, the memory its stack peaked at.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any, cast

from bgref_compare._results import Percentiles, Run
from bgref_compare.loadgen._bench import LoadOutcome
from bgref_compare.registry import Impl

__all__: list[str] = []


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _merge_percentiles(parts: list[Any]) -> Percentiles:
    """Median of each percentile over repetitions; the maximum of the maxima."""
    present = [p for p in parts if p]
    maxima = [p["max"] for p in present if p.get("max") is not None]
    return {
        "p50": _median(p.get("p50") for p in present),
        "p90": _median(p.get("p90") for p in present),
        "p99": _median(p.get("p99") for p in present),
        "max": max(maxima) if maxima else None,
        "mean": _median(p.get("mean") for p in present),
    }


def _sum(phases: list[dict[str, Any]], key: str) -> int | None:
    values = [p.get(key) for p in phases]
    if any(v is None for v in values):
        return None
    return sum(cast(int, v) for v in values)


def _base_run(
    impl: Impl, variant: str, scenario: str, path: str, phases: list[dict[str, Any]]
) -> Run:
    """The fields every run has, summed or merged over its phases (its repetitions)."""
    statuses: dict[str, int] = {}
    for phase in phases:
        for code, count in phase.get("statuses", {}).items():
            statuses[code] = statuses.get(code, 0) + count
    writes = any("completion_ms" in p for p in phases)
    run: Run = {
        "impl": impl.id,
        "variant": variant,
        "scenario": scenario,
        "path": path,
        "requests": _sum(phases, "requests") or 0,
        "ok": _sum(phases, "ok") or 0,
        "errors": _sum(phases, "errors") or 0,
        "rejected": _sum(phases, "rejected") or 0,
        "failed": _sum(phases, "failed") or 0,
        "rps": _median(p["rps"] for p in phases) or 0.0,
        "latency_ms": _merge_percentiles([p.get("latency_ms") for p in phases]),
        "completion_ms": (
            _merge_percentiles([p.get("completion_ms") for p in phases]) if writes else None
        ),
        "lost": _sum(phases, "lost"),
        "duplicated": _sum(phases, "duplicated"),
        "peak_rss_mb": 0.0,
        "unexpected": _sum(phases, "unexpected"),
        "statuses": statuses,
        "seconds": round(sum(p["seconds"] for p in phases), 3),
        "concurrency": phases[0]["concurrency"],
        "loadgen_cpu": max(p.get("loadgen_cpu", 0.0) for p in phases),
    }
    if writes:
        # The distribution of the longest repetition stands for the run.
        longest = max(phases, key=lambda p: p.get("ok", 0))
        run["completion_cdf"] = [list(pair) for pair in longest.get("completion_cdf", [])]
        drains = [p["drain_s"] for p in phases if p.get("drain_s") is not None]
        run["drain_s"] = max(drains) if drains else None
        flags = [p.get("drain_complete") for p in phases if p.get("drain_complete") is not None]
        run["drain_complete"] = all(flags) if flags else None
        run["backlog_max"] = max(p.get("backlog_max", 0) for p in phases)
        run["completed_rps"] = _median(p.get("completed_rps") for p in phases) or 0.0
    return run


def _with_memory(run: Run, outcome: LoadOutcome) -> Run:
    run["peak_rss_mb"] = outcome.peak_rss_mb
    run["peak_pss_mb"] = outcome.peak_pss_mb
    run["peak_threads"] = outcome.peak_threads
    run["tail_poll_ms"] = outcome.data.get("tail_poll_ms", {})
    return run


def _merge_slices(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One repetition's result from the slices it was measured in."""
    merged = dict(parts[0])
    for key in ("requests", "ok", "errors", "rejected", "failed", "lost", "duplicated"):
        merged[key] = _sum(parts, key)
    merged["unexpected"] = _sum(parts, "unexpected")
    seconds = sum(p["seconds"] for p in parts) or 1e-9
    merged["seconds"] = round(seconds, 3)
    merged["rps"] = round(sum(p["rps"] * p["seconds"] for p in parts) / seconds, 1)
    statuses: dict[str, int] = {}
    for part in parts:
        for code, count in part.get("statuses", {}).items():
            statuses[code] = statuses.get(code, 0) + count
    merged["statuses"] = statuses
    merged["latency_ms"] = _merge_percentiles([p.get("latency_ms") for p in parts])
    merged["loadgen_cpu"] = max(p.get("loadgen_cpu", 0.0) for p in parts)
    if any("completion_ms" in p for p in parts):
        merged["completion_ms"] = _merge_percentiles([p.get("completion_ms") for p in parts])
        merged["completed_rps"] = round(
            sum((p.get("completed_rps") or 0.0) * p["seconds"] for p in parts) / seconds, 1
        )
        merged["drain_s"] = max((p.get("drain_s") or 0.0) for p in parts)
        # What the stack sustains: the slices' answers over the slices and the time
        # the log took to catch up after each. A worker that falls behind leaves a
        # backlog to the drain; counting only the slices would credit the web's
        # answers to work not yet done.
        drained = seconds + sum((p.get("drain_s") or 0.0) for p in parts)
        merged["answered_rps"] = merged["rps"]
        merged["rps"] = round(sum(p["rps"] * p["seconds"] for p in parts) / drained, 1)
        merged["drain_complete"] = all(p.get("drain_complete") is not False for p in parts)
        merged["backlog_max"] = max(p.get("backlog_max", 0) for p in parts)
    return merged

"""The records of a comparison and their JSON form (``results.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict, cast

__all__ = [
    "SCHEMA_VERSION",
    "Failure",
    "Percentiles",
    "Results",
    "Run",
    "find_runs",
    "load_results",
    "write_results",
]

# 2: "capacity" and "hot-connections" runs (the capacity's validation, the theory
# beside it, the connection policy); scale-out runs carry their theory.
# 3: "load-curve" and "concurrency" runs, one per step, with a latency histogram.
# 4: fault rows carry the ``variant`` they were measured on (the pitfall lab's
# variants under the faults they declare), runs their ``peak_threads``, and the
# report gives every approach's variants a table of their own.
SCHEMA_VERSION = 4


class Percentiles(TypedDict):
    """Latency percentiles in milliseconds (None when nothing was measured)."""

    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None
    mean: float | None


class _RunRequired(TypedDict):
    impl: str
    # "default" for the implementation's own /send-message/, else a pitfall-lab variant.
    variant: str
    # "throughput", "slow-work", "capacity", "hot-connections", "scale-out",
    # "load-curve", "concurrency" or "soak".
    scenario: str
    path: str
    requests: int
    ok: int
    # Every request not acknowledged: rejected (an HTTP error answer) plus failed (no answer).
    errors: int
    rejected: int
    failed: int
    # Acknowledged requests per second over the load (median over repetitions).
    rps: float
    latency_ms: Percentiles
    completion_ms: Percentiles | None
    lost: int | None
    duplicated: int | None
    peak_rss_mb: float


class Run(_RunRequired, total=False):
    """One measured configuration: an implementation (or variant) under one load."""

    # throughput, load-curve, concurrency: "send-message" (the variant's path) or "baseline".
    endpoint: str
    # slow-work: "below" or "above" the measured capacity.
    load: str
    unexpected: int | None
    peak_pss_mb: float | None
    # The most threads the stack's processes ran at once during the run (schema 4).
    peak_threads: int
    statuses: dict[str, int]
    seconds: float
    concurrency: int
    reps: int
    rps_reps: list[float]
    rps_min: float
    rps_max: float
    # throughput, send-message only: this rps over the baseline rps of the same run.
    ratio: float | None
    ratio_reps: list[float]
    # throughput, send-message: what the web answered per second of the slices alone
    # (``rps`` counts the drain after each slice too; absent in older results).
    answered_rps: float
    # throughput, send-message: each server process's CPU per request, per path
    # (scenarios/_cpusplit.py; absent in older results).
    cpu_us: dict[str, Any]
    # throughput, a worker queue's send-message: the message's CPU taken apart,
    # the web queuing with its workers frozen, then the workers writing alone
    # (scenarios/_jobcost.py; absent in older results).
    job_cost: dict[str, Any]
    completion_cdf: list[list[float]]
    delay_ms: float
    offered_rps: float
    completed_rps: float
    capacity_rps: float | None
    backlog_max: int
    backlog: list[list[float]]
    drain_s: float | None
    drain_complete: bool | None
    workers: int | None
    max_backlog: int
    tail_poll_ms: dict[str, float | None]
    loadgen_cpu: float
    wait_ms: Percentiles
    dispatch_lag_ms: dict[str, float | None]
    # soak: the stack's RSS after the warm-up and at the end, and whether it stayed flat.
    rss_warm_mb: float
    rss_end_mb: float
    memory_growth: float | None
    memory_flat: bool | None
    # capacity, slow-work, scale-out, hot-connections: how the generator used its
    # connections (_connection.POLICIES), and the server's web processes.
    connections: str
    web_processes: int
    # capacity: the open loops at 90% and 110% of the measured capacity, and the verdict
    # (_capacity.verdict); slow-work runs repeat the verdict of the capacity they use.
    validation: dict[str, dict[str, Any]]
    capacity_verdict: str
    # The declared workers' capacity (_capacity.theory) and its formula with the inputs.
    theory_rps: float
    theory_formula: str
    # hot-connections: the capacity through a most-recent-first pool, and how that
    # client fared at 90% of the spread capacity.
    hot_capacity_rps: float
    hot_under: dict[str, Any]
    # load-curve and concurrency, one run per step (``concurrency`` is the
    # step's connections): p99.9 and the latencies' log-bucket histogram
    # (_histogram.LogHistogram.to_json), from which latency_ms is read too.
    latency_p999_ms: float | None
    latency_hist: dict[str, Any]
    # load-curve: the offered rate's share of the path's closed-loop throughput,
    # that throughput, and where it was measured.
    offered_share: float
    closed_rps: float
    closed_source: str


class Failure(TypedDict):
    """A step of the comparison that could not be measured."""

    impl: str
    variant: str
    scenario: str
    error: str


class Results(TypedDict):
    """Everything ``results.json`` holds."""

    schema: int
    meta: dict[str, Any]
    loadgen: dict[str, Any]
    runs: list[Run]
    # Implementation id -> send-message rps / baseline rps (the headline figure).
    ratios: dict[str, float | None]
    # "impl/variant" -> the same ratio for each pitfall-lab variant.
    variant_ratios: dict[str, float | None]
    failures: list[Failure]
    # Filled by the fault scenarios (another issue); the report renders them if present.
    faults: list[dict[str, Any]]


def write_results(path: Path, results: Results) -> None:
    """Write ``results`` as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")


def load_results(path: Path) -> Results:
    """Read a ``results.json`` back (fields added by later versions are kept as they are)."""
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or "runs" not in data:
        raise ValueError(f"{path} is not a comparison's results.json")
    data.setdefault("faults", [])
    data.setdefault("failures", [])
    data.setdefault("variant_ratios", {})
    return cast(Results, data)


def find_runs(results: Results, **match: Any) -> list[Run]:
    """The runs whose fields equal every ``match`` item, in order."""
    return [
        run
        for run in results["runs"]
        if all(cast(dict[str, Any], run).get(k) == v for k, v in match.items())
    ]

"""Scenario 1, throughput: closed loops with no simulated work, each path paired with the
baseline endpoint in the same repetition.
"""

from __future__ import annotations

import statistics
from typing import Any

from bgref_compare._profile import Profile
from bgref_compare._results import Run
from bgref_compare.loadgen._bench import Bench, new_run_id
from bgref_compare.loadgen._loadgen import LoadSpec, Phase
from bgref_compare.registry import Impl

from ._cpusplit import SliceCpu, combine, per_request
from ._jobcost import measure_job_cost
from ._paths import BASELINE_PATH, DEFAULT_VARIANT, _variants
from ._record import _base_run, _merge_slices, _with_memory

__all__ = ["throughput"]

_BASELINE = "baseline"


def throughput(bench: Bench, profile: Profile, impl: Impl) -> list[Run]:
    """Closed loop, no simulated work: send-message (and variants) alternating with baseline.

    Each repetition gives every path ``throughput_seconds`` in slices of about
    ``slice_seconds``, the paths taking turns in a rotating order; after every
    slice on a path that writes, the log catches up before the next slice starts.
    """
    paths = [*_variants(impl, profile), (_BASELINE, BASELINE_PATH)]
    warm = profile.warmup_seconds / len(paths)
    # A warm-up that writes drains too: a worker's backlog would otherwise spill
    # into the first measured slices, whichever path they are.
    phases = [
        Phase(
            f"warmup:{name}",
            path,
            warm,
            profile.concurrency,
            writes=name != _BASELINE,
            drain=name != _BASELINE,
        )
        for name, path in paths
    ]
    slices = max(1, round(profile.throughput_seconds / profile.slice_seconds))
    slice_s = profile.throughput_seconds / slices
    for rep in range(profile.throughput_reps):
        for k in range(slices):
            # Rotating the order puts every path at every position, so drift favours none.
            shift = (rep * slices + k) % len(paths)
            for name, path in paths[shift:] + paths[:shift]:
                writes = name != _BASELINE
                # A pitfall-lab variant may get a shorter slice (Profile.variant_share).
                lab = name not in (DEFAULT_VARIANT, _BASELINE)
                phases.append(
                    Phase(
                        f"{name}#{rep}",
                        path,
                        slice_s * (profile.variant_share if lab else 1.0),
                        profile.concurrency,
                        writes=writes,
                        drain=writes,
                    )
                )
    spec = LoadSpec(
        "",
        0,
        new_run_id(),
        tuple(phases),
        timeout_s=profile.request_timeout_s,
        drain_timeout_s=profile.drain_timeout_s,
    )
    budget = sum(p.seconds for p in phases) * 3 + profile.drain_timeout_s * 4 + 120
    with bench.stack(impl, delay_ms=0.0) as running:
        # Every phase also reads each server process's CPU at its edges: where
        # the CPU goes comes from the very slices that the ratio comes from.
        outcome = bench.load(running, spec, timeout=budget, watch_cpu=True)
        # Then, on the drained stack, the same message's CPU taken apart: what
        # the web and the workers cost each alone, against what they cost sharing.
        apart = (
            measure_job_cost(bench, running, profile.concurrency, profile.job_cost_seconds)
            if profile.job_cost_seconds
            else None
        )
    by_label = _by_label(outcome.phases)
    groups: dict[str, list[dict[str, Any]]] = {}
    for label, parts in by_label.items():
        groups.setdefault(label.partition("#")[0], []).append(_merge_slices(parts))
    baseline = groups.get(_BASELINE, [])
    runs: list[Run] = []
    for name, path in paths:
        reps = groups.get(name, [])
        if not reps:
            continue
        is_baseline = name == _BASELINE
        run = _base_run(impl, DEFAULT_VARIANT if is_baseline else name, "throughput", path, reps)
        run["endpoint"] = _BASELINE if is_baseline else "send-message"
        run["reps"] = len(reps)
        run["rps_reps"] = [p["rps"] for p in reps]
        run["rps_min"] = min(run["rps_reps"])
        run["rps_max"] = max(run["rps_reps"])
        if not is_baseline and all("answered_rps" in p for p in reps):
            # What the web answered during the slices, before its backlog drained.
            run["answered_rps"] = round(statistics.median(p["answered_rps"] for p in reps), 1)
        if not is_baseline:
            # Paired by repetition: each path against the baseline slices around it.
            ratios = [
                round(s["rps"] / b["rps"], 3)
                for s, b in zip(reps, baseline, strict=False)
                if b["rps"] > 0
            ]
            run["ratio_reps"] = ratios
            run["ratio"] = round(statistics.median(ratios), 3) if ratios else None
        if name == DEFAULT_VARIANT:
            send, base = _cpu_over(by_label, DEFAULT_VARIANT), _cpu_over(by_label, _BASELINE)
            if send is not None and base is not None:
                run["cpu_us"] = _cpu_record([send, base])
            if apart is not None:
                run["job_cost"] = apart.to_json()
        runs.append(_with_memory(run, outcome))
    return runs


def _by_label(phases: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The measured phases' results by label (``name#rep``), the warm-up left out."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    for result in phases:
        if "#" in result["label"]:
            by_label.setdefault(result["label"], []).append(result)
    return by_label


def _cpu_over(by_label: dict[str, list[dict[str, Any]]], name: str) -> SliceCpu | None:
    """One path's CPU over all its measured slices (warm-up left out), or None if unwatched."""
    pieces = [
        SliceCpu.of_phase(result)
        for label, parts in by_label.items()
        if label.partition("#")[0] == name
        for result in parts
    ]
    known = [p for p in pieces if p is not None]
    if not known or len(known) < len(pieces):
        return None
    return combine(known)


def _cpu_record(slices: list[SliceCpu]) -> dict[str, Any]:
    """Per path: each process's CPU per request (µs), the rate, Redis's commands per request.

    ``over`` says that the slices are the repetitions' own (a result without it
    measured one slice of each path after them), ``busy`` how much of the
    servers' CPU the path kept busy.
    """
    record: dict[str, Any] = {
        "seconds": round(max(p.wall_s for p in slices), 1),
        "over": "repetitions",
    }
    for piece in slices:
        endpoint = _BASELINE if piece.path == BASELINE_PATH else "send-message"
        record[endpoint] = {
            "rps": round(piece.rps, 1),
            "seconds": round(piece.wall_s, 1),
            "busy": round(piece.busy, 3),
            "us": per_request(piece),
            "redis_per_request": {
                name: round(count / piece.requests, 2)
                for name, count in sorted(piece.redis_calls.items(), key=lambda kv: -kv[1])
                if piece.requests and count >= piece.requests / 10
            },
        }
    return record

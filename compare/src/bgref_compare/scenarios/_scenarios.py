"""The scenarios: throughput, slow work, scale-out, and the load generator's own capacity check."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

from bgref_compare._profile import Profile
from bgref_compare._results import Percentiles, Run
from bgref_compare.loadgen._bench import Bench, LoadOutcome, RunningStack, new_run_id
from bgref_compare.loadgen._loadgen import LoadSpec, Phase
from bgref_compare.registry import Impl, Variant
from bgref_compare.stack._polling import wait_until
from bgref_compare.stack._ports import free_port
from bgref_compare.stack._process import ManagedProcess

from ._capacity import (
    OVER,
    UNDER,
    falls_behind,
    hot_policy,
    keeps_up,
    spread_policy,
    theory,
    verdict,
)
from ._labplan import lab_variants, loads_of

__all__ = [
    "DEFAULT_VARIANT",
    "SEND_PATH",
    "Step",
    "hot_connections",
    "plan_steps",
    "scale_out",
    "selfcheck",
    "slow_work",
    "start_seconds",
    "throughput",
    "writer_cost",
]

SEND_PATH = "/send-message/"
BASELINE_PATH = "/baseline/"
DEFAULT_VARIANT = "default"
_BASELINE = "baseline"


def start_seconds(impl: Impl) -> float:
    """About how long ``impl`` takes to start and stop, for the progress estimate.

    From what it runs: each process (an interpreter importing its framework) and,
    with a broker, a private Redis to start and a worker to shut down warm.
    """
    return 1.5 * len(impl.processes) + (2.0 if impl.needs_redis else 0.0)


def _variants(impl: Impl, profile: Profile) -> list[tuple[str, str]]:
    measured = [(v.name, v.path) for v in lab_variants(impl, profile.variants_per_impl)]
    return [(DEFAULT_VARIANT, SEND_PATH), *measured]


def _lab_variant(impl: Impl, name: str) -> Variant | None:
    return None if name == DEFAULT_VARIANT else impl.variant(name)


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


# --- the load generator's own capacity ------------------------------------------------------


def selfcheck(bench: Bench, profile: Profile) -> dict[str, Any]:
    """Measure the load generator against a trivial server that answers a fixed 200."""
    port = free_port()
    argv = [sys.executable, "-m", "bgref_compare.scenarios._trivial", "--port", str(port)]
    if bench.cpus.servers is not None:
        argv += ["--cpu", str(min(bench.cpus.servers))]
    env = dict(os.environ)
    server = ManagedProcess("trivial", argv, env=env, output=bench.workdir / "trivial.out")
    server.start()
    try:
        if not wait_until(lambda: _accepts(port) or not server.running, 10.0):
            raise RuntimeError(f"trivial server did not start:\n{server.output()}")
        phase = Phase(
            "selfcheck",
            SEND_PATH,
            profile.selfcheck_seconds,
            concurrency=profile.concurrency,
            writes=False,
        )
        spec = LoadSpec("127.0.0.1", port, new_run_id(), (phase,), cpu=bench.cpus.loadgen)
        data = bench.run_loadgen(spec, timeout=profile.selfcheck_seconds + 60)
    finally:
        server.stop(timeout=5.0)
    result = data["phases"][0]
    cpu = result.get("loadgen_cpu") or 0.0
    return {
        "capacity_rps": result["rps"],
        "loadgen_cpu": cpu,
        # What the generator would reach at full use of its CPU, from its CPU time per request.
        "cpu_bound_rps": round(result["rps"] / cpu, 1) if cpu else None,
        "concurrency": profile.concurrency,
        "seconds": profile.selfcheck_seconds,
        "failed": result["failed"],
        "uvloop": data.get("uvloop"),
        "latency_ms": result["latency_ms"],
        "writer_us": writer_cost(bench.workdir / "writer-cost.log"),
    }


def writer_cost(path: Path, count: int = 20_000) -> dict[str, float]:
    """Microseconds per ``write`` and per ``awrite`` of the shared writer, with no delay."""
    from bgref_linelog import LogWriter

    with LogWriter(path, fsync=False, delay_ms=0) as writer:
        started = time.perf_counter()
        for i in range(count):
            writer.write(f"w-{i}")
        write_us = (time.perf_counter() - started) / count * 1e6

        async def awrites() -> float:
            started = time.perf_counter()
            for i in range(count):
                await writer.awrite(f"a-{i}")
            return (time.perf_counter() - started) / count * 1e6

        awrite_us = asyncio.run(awrites())
    path.unlink(missing_ok=True)
    return {"write": round(write_us, 2), "awrite": round(awrite_us, 2)}


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --- scenario 1: throughput ----------------------------------------------------------------


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
        merged["drain_complete"] = all(p.get("drain_complete") is not False for p in parts)
        merged["backlog_max"] = max(p.get("backlog_max", 0) for p in parts)
    return merged


def throughput(bench: Bench, profile: Profile, impl: Impl) -> list[Run]:
    """Closed loop, no simulated work: send-message (and variants) alternating with baseline.

    Each repetition gives every path ``throughput_seconds`` in slices of about
    ``slice_seconds``, the paths taking turns in a rotating order; after every
    slice on a path that writes, the log catches up before the next slice starts.
    """
    paths = [*_variants(impl, profile), (_BASELINE, BASELINE_PATH)]
    warm = profile.warmup_seconds / len(paths)
    phases = [
        Phase(f"warmup:{name}", path, warm, profile.concurrency, writes=name != _BASELINE)
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
        outcome = bench.load(running, spec, timeout=budget)
    by_label: dict[str, list[dict[str, Any]]] = {}
    for result in outcome.phases:
        if "#" in result["label"]:
            by_label.setdefault(result["label"], []).append(result)
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
        if not is_baseline:
            # Paired by repetition: each path against the baseline slices around it.
            ratios = [
                round(s["rps"] / b["rps"], 3)
                for s, b in zip(reps, baseline, strict=False)
                if b["rps"] > 0
            ]
            run["ratio_reps"] = ratios
            run["ratio"] = round(statistics.median(ratios), 3) if ratios else None
        runs.append(_with_memory(run, outcome))
    return runs


# --- scenario 2: slow work -----------------------------------------------------------------


def _saturating(
    label: str,
    path: str,
    seconds: float,
    profile: Profile,
    *,
    connections: str,
    floor: int = 64,
) -> Phase:
    """A closed loop that keeps the implementation's workers busy with a bounded backlog.

    The cap starts at ``floor`` messages and follows the completion rate (four
    work times' worth of it), so that it grows about fourfold every quarter
    second until the implementation, not the cap, is the limit.
    """
    return Phase(
        label,
        path,
        seconds,
        profile.concurrency,
        writes=True,
        drain=True,
        max_backlog=floor,
        backlog_seconds=4 * profile.delay_ms / 1000,
        connections=connections,
    )


def _probe(
    bench: Bench, running: RunningStack, profile: Profile, path: str, connections: str
) -> tuple[float, dict[str, Any]]:
    """The capacity a saturating probe finds (completed messages per second), and its phase."""
    delay_s = profile.delay_ms / 1000
    probe = _saturating("probe", path, profile.probe_seconds, profile, connections=connections)
    spec = LoadSpec(
        "",
        0,
        new_run_id(),
        (probe,),
        timeout_s=profile.request_timeout_s,
        drain_timeout_s=profile.drain_timeout_s,
        warm_s=profile.probe_seconds / 3 + delay_s,
    )
    budget = profile.probe_seconds + profile.request_timeout_s + profile.drain_timeout_s
    found = bench.load(running, spec, timeout=budget + 60).phases[0]
    capacity = float(found.get("completed_rps") or 0.0)
    if capacity <= 0 and found.get("ok"):
        # Nothing landed inside the counting window (a very short probe on a busy
        # machine): fall back to everything the probe got done, drain included.
        spent = found["seconds"] + (found.get("drain_s") or 0.0)
        capacity = found["ok"] / max(spent, 1e-3)
    return capacity, found


def _open_phases(
    bench: Bench,
    running: RunningStack,
    profile: Profile,
    path: str,
    rates: list[tuple[str, float]],
    seconds: float,
    connections: str,
) -> tuple[list[dict[str, Any]], LoadOutcome]:
    """Open loops at each ``(label, rate)`` in turn for ``seconds``, each drained before the next.

    One generator process runs them all: starting one costs about a second on a busy machine.
    """
    phases = tuple(
        Phase(
            label,
            path,
            seconds,
            profile.open_connections,
            rate=rate,
            writes=True,
            drain=True,
            connections=connections,
        )
        for label, rate in rates
    )
    spec = LoadSpec(
        "",
        0,
        new_run_id(),
        phases,
        timeout_s=profile.request_timeout_s,
        drain_timeout_s=profile.drain_timeout_s,
        warm_s=min(seconds / 4, 1.0),
    )
    budget = len(phases) * (seconds * 3 + profile.drain_timeout_s) + profile.request_timeout_s
    outcome = bench.load(running, spec, timeout=budget + 60)
    return outcome.phases, outcome


_VALIDATION = (("under", UNDER), ("over", OVER))


def _validation_leg(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "offered_rps": result.get("offered_rps"),
        "completed_rps": result.get("completed_rps"),
        "drain_s": result.get("drain_s"),
        "drain_complete": result.get("drain_complete"),
        "errors": result.get("errors"),
    }


def slow_work(bench: Bench, profile: Profile, impl: Impl, variant: str, path: str) -> list[Run]:
    """Probe the capacity, validate it, then run open loops below and above it.

    A pitfall-lab variant may only be probed and run at the loads that show its
    difference (``_labplan``), in the shorter profiles.

    Every request goes over the connection policy that reaches all of the
    server's web processes. The validation offers UNDER and OVER times the
    measured capacity: the first must keep up, the second fall behind; a
    capacity that fails is recorded as such (``capacity_verdict``).
    """
    connections = spread_policy(impl)
    runs: list[Run] = []
    lab = _lab_variant(impl, variant)
    with bench.stack(impl, delay_ms=profile.delay_ms) as running:
        capacity, _found = _probe(bench, running, profile, path, connections)
        if capacity <= 0:
            raise RuntimeError(
                f"{impl.id}/{variant}: nothing completed while probing the capacity"
            )
        # A shorter profile only probes a variant's capacity: with no capacity run,
        # its slow-work runs carry no verdict and the report says "not validated".
        if lab is None or profile.validate_variants:
            runs.append(_validated(bench, running, profile, impl, variant, path, capacity))
        checked = runs[0].get("capacity_verdict") if runs else None
        for load, factor in (("below", profile.below), ("above", profile.above)):
            if load not in loads_of(lab, profile.every_load):
                continue
            rate = max(1.0, round(capacity * factor, 1))
            [result], outcome = _open_phases(
                bench, running, profile, path, [(load, rate)], profile.slow_seconds, connections
            )
            run = _base_run(impl, variant, "slow-work", path, [result])
            run["load"] = load
            run["delay_ms"] = profile.delay_ms
            run["offered_rps"] = rate
            run["capacity_rps"] = round(capacity, 1)
            if checked is not None:
                run["capacity_verdict"] = checked
            run["connections"] = connections
            run["backlog"] = [list(pair) for pair in result.get("backlog", [])]
            if "wait_ms" in result:
                run["wait_ms"] = result["wait_ms"]
            run["dispatch_lag_ms"] = result.get("dispatch_lag_ms", {})
            runs.append(_with_memory(run, outcome))
    return runs


def _validated(
    bench: Bench,
    running: RunningStack,
    profile: Profile,
    impl: Impl,
    variant: str,
    path: str,
    capacity: float,
) -> Run:
    """The capacity's validation run: open loops at UNDER and OVER times ``capacity``."""
    connections = spread_policy(impl)
    rates = [(label, max(1.0, round(capacity * f, 1))) for label, f in _VALIDATION]
    legs, outcome = _open_phases(
        bench, running, profile, path, rates, profile.validate_seconds, connections
    )
    check = _base_run(impl, variant, "capacity", path, legs)
    check["delay_ms"] = profile.delay_ms
    check["capacity_rps"] = round(capacity, 1)
    check["connections"] = connections
    check["web_processes"] = impl.web_processes
    under, over = legs
    kept, fell = keeps_up(under), falls_behind(over)
    check["validation"] = {
        "under": _validation_leg(under) | {"share": UNDER, "kept_up": kept},
        "over": _validation_leg(over) | {"share": OVER, "fell_behind": fell},
    }
    check["capacity_verdict"] = verdict(kept, fell)
    expected = theory(impl, profile.delay_ms) if variant == DEFAULT_VARIANT else None
    if expected is not None:
        check["theory_rps"] = expected.rps
        check["theory_formula"] = expected.formula
    return _with_memory(check, outcome)


def hot_connections(bench: Bench, profile: Profile, impl: Impl) -> list[Run]:
    """The capacity a client that reuses its hottest connections sees, beside the spread one.

    Both probes run back to back on one stack, so the machine's state favours neither.
    """
    spread = spread_policy(impl)
    with bench.stack(impl, delay_ms=profile.delay_ms) as running:
        capacity, _ = _probe(bench, running, profile, SEND_PATH, spread)
        hot, found = _probe(bench, running, profile, SEND_PATH, hot_policy())
        [phase], outcome = _open_phases(
            bench,
            running,
            profile,
            SEND_PATH,
            [("hot-under", max(1.0, round(capacity * UNDER, 1)))],
            profile.validate_seconds,
            hot_policy(),
        )
    run = _base_run(impl, DEFAULT_VARIANT, "hot-connections", SEND_PATH, [found, phase])
    run["delay_ms"] = profile.delay_ms
    run["web_processes"] = impl.web_processes
    run["connections"] = hot_policy()
    run["capacity_rps"] = round(capacity, 1)
    run["hot_capacity_rps"] = round(hot, 1)
    # The spread capacity's validation load, sent by a hot-connection client.
    run["hot_under"] = _validation_leg(phase) | {
        "share": UNDER,
        "kept_up": keeps_up(phase),
        "fell_behind": falls_behind(phase),
    }
    expected = theory(impl, profile.delay_ms)
    if expected is not None:
        run["theory_rps"] = expected.rps
        run["theory_formula"] = expected.formula
    return [_with_memory(run, outcome)]


# --- scenario 4: scale-out -----------------------------------------------------------------


def scale_out(bench: Bench, profile: Profile, impl: Impl, workers: int) -> list[Run]:
    """Keep ``workers`` workers saturated with slow work; measure the messages they complete."""
    # A small floor: one Celery worker does 1000/delay messages per second and
    # must drain whatever the cap let in.
    connections = spread_policy(impl)
    phase = _saturating(
        "scale", SEND_PATH, profile.scale_seconds, profile, connections=connections, floor=24
    )
    spec = LoadSpec(
        "",
        0,
        new_run_id(),
        (phase,),
        timeout_s=profile.request_timeout_s,
        drain_timeout_s=profile.drain_timeout_s,
        warm_s=profile.scale_seconds / 3 + profile.delay_ms / 1000,
    )
    budget = profile.scale_seconds * 2 + profile.request_timeout_s + profile.drain_timeout_s
    with bench.stack(impl, delay_ms=profile.delay_ms, workers=workers) as running:
        outcome = bench.load(running, spec, timeout=budget + 60)
    result = outcome.phases[0]
    run = _base_run(impl, DEFAULT_VARIANT, "scale-out", SEND_PATH, [result])
    run["workers"] = workers
    run["delay_ms"] = profile.delay_ms
    run["max_backlog"] = result.get("backlog_cap") or 0
    run["connections"] = connections
    expected = theory(impl, profile.delay_ms, workers)
    if expected is not None:
        run["theory_rps"] = expected.rps
        run["theory_formula"] = expected.formula
    return [_with_memory(run, outcome)]


# --- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One unit of the comparison, with its estimated duration for the progress bar."""

    scenario: str
    impl: str
    variant: str
    label: str
    seconds: float
    run: Callable[[], list[Run]]


def plan_steps(
    bench: Bench, profile: Profile, impls: list[Impl], scenarios: Iterable[str]
) -> list[Step]:
    """Every step of the chosen scenarios for the chosen implementations, in running order."""
    wanted = set(scenarios)
    steps: list[Step] = []
    p = profile

    start = start_seconds
    if "throughput" in wanted:
        for impl in impls:
            lab = len(_variants(impl, p)) - 1
            n = 2 + lab * p.variant_share
            secs = start(impl) + p.warmup_seconds + n * p.throughput_reps * p.throughput_seconds
            steps.append(
                Step(
                    "throughput",
                    impl.id,
                    DEFAULT_VARIANT,
                    f"throughput · {impl.id}",
                    secs,
                    partial(throughput, bench, p, impl),
                )
            )
    if "slow-work" in wanted:
        for impl in impls:
            for variant, path in _variants(impl, p):
                measured = _lab_variant(impl, variant)
                validates = measured is None or p.validate_variants
                loads = len(loads_of(measured, p.every_load))
                secs = (
                    start(impl)
                    + p.probe_seconds
                    + (2.2 * p.validate_seconds if validates else 0.0)
                    + 1.2 * loads * p.slow_seconds
                )
                steps.append(
                    Step(
                        "slow-work",
                        impl.id,
                        variant,
                        f"slow work · {impl.id}"
                        + ("" if variant == DEFAULT_VARIANT else f" · {variant}"),
                        secs,
                        partial(slow_work, bench, p, impl, variant, path),
                    )
                )
    if "hot-connections" in wanted:
        for impl in impls:
            if impl.web_processes < 2:
                continue  # one process gets every connection, hot or not
            steps.append(
                Step(
                    "hot-connections",
                    impl.id,
                    DEFAULT_VARIANT,
                    f"hot connections · {impl.id}",
                    start(impl) + 2 * p.probe_seconds + 1.1 * p.validate_seconds,
                    partial(hot_connections, bench, p, impl),
                )
            )
    if "scale-out" in wanted:
        for impl in impls:
            if not impl.workers_env:
                continue
            for workers in p.workers_for(impl):
                steps.append(
                    Step(
                        "scale-out",
                        impl.id,
                        DEFAULT_VARIANT,
                        f"scale-out · {impl.id} · {workers} workers",
                        start(impl) + 1.3 * p.scale_seconds,
                        partial(scale_out, bench, p, impl, workers),
                    )
                )
    return steps

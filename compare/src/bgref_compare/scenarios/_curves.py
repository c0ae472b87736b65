"""The curves: latency against offered load, and throughput and tail latency against connections.

The throughput scenario gives one point per path: a closed loop at the profile's
connections. It does not say where a server's tail bends as the offered rate
rises toward that throughput, nor what many more clients than request threads
do to it. Two scenarios draw those curves, on one stack per implementation and
without simulated work:

- ``load-curve`` (wrk2's question): open loops on ``/send-message/`` and
  ``/baseline/`` at fixed shares of the closed-loop throughput the throughput
  scenario measured in this run, 10% to 110%; latency runs from each request's
  intended send time, so coordinated omission is corrected, and is counted into
  a log-bucket histogram (``_histogram``) for p99.9.
- ``concurrency`` (TechEmpower's sweep): closed loops on ``/send-message/`` at
  each connection count, each after a warm-up at the same count; every step
  records the generator's own CPU use, so a step where it was the limit shows.

Both use the throughput scenario's connections (``ROUND_ROBIN``: kept where the
server's kernel put them), not the balanced set of the slow-work scenario:
without work the server's one CPU is the limit whichever process holds a
connection, the load curve's shares are of a throughput measured that way,
and independent clients get the kernel's spread too. A balanced set, opened one
connection at a time before every phase, also cost about a second per phase
on a busy machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from bgref_compare._profile import Profile
from bgref_compare._results import Run
from bgref_compare.loadgen._bench import Bench, LoadOutcome, RunningStack, new_run_id
from bgref_compare.loadgen._connection import ROUND_ROBIN
from bgref_compare.loadgen._histogram import LogHistogram
from bgref_compare.loadgen._loadgen import LoadSpec, Phase
from bgref_compare.registry import Impl

from ._paths import BASELINE_PATH, DEFAULT_VARIANT, SEND_PATH
from ._record import _base_run, _with_memory
from ._step import Step, start_seconds

__all__ = [
    "CONCURRENCY",
    "LOAD_CURVE",
    "curve_impls",
    "curves",
    "plan_curve_steps",
    "reference_rps",
]

LOAD_CURVE = "load-curve"
CONCURRENCY = "concurrency"
# The load curve's paths: the endpoint's name in the throughput runs, and its path.
_PATHS = (("send-message", SEND_PATH), ("baseline", BASELINE_PATH))
# Where the closed-loop throughput a curve is scaled from came from.
FROM_THROUGHPUT = "throughput scenario"
MEASURED_HERE = "measured on the curve's stack"


def reference_rps(runs: Sequence[Run], impl: str) -> dict[str, float]:
    """Each path's closed-loop throughput (endpoint -> rps) measured by the throughput scenario."""
    found: dict[str, float] = {}
    for run in runs:
        if (
            run["impl"] == impl
            and run["scenario"] == "throughput"
            and run["variant"] == DEFAULT_VARIANT
            and run.get("endpoint") in dict(_PATHS)
            and run["rps"] > 0
        ):
            found[run["endpoint"]] = run["rps"]
    return found


def _warmup(profile: Profile) -> Phase:
    # A fresh server answers its first requests slower (imports, caches, pools).
    return Phase("warmup", SEND_PATH, profile.warmup_seconds, profile.concurrency, drain=True)


def _spec(profile: Profile, phases: list[Phase]) -> LoadSpec:
    return LoadSpec(
        "",
        0,
        new_run_id(),
        tuple(phases),
        timeout_s=profile.request_timeout_s,
        drain_timeout_s=profile.drain_timeout_s,
    )


def _budget(profile: Profile, phases: list[Phase]) -> float:
    return sum(p.seconds for p in phases) * 3 + profile.drain_timeout_s * 2 + 120


def _measure_reference(bench: Bench, running: RunningStack, profile: Profile) -> dict[str, float]:
    """Each path's closed-loop throughput on this stack, when the throughput scenario has none."""
    seconds = max(profile.curve_seconds, 0.5)
    phases = [_warmup(profile)] + [
        Phase(name, path, seconds, profile.concurrency, writes=path == SEND_PATH, drain=True)
        for name, path in _PATHS
    ]
    outcome = bench.load(running, _spec(profile, phases), timeout=_budget(profile, phases))
    return {r["label"]: r["rps"] for r in outcome.phases[1:] if r["rps"] > 0}


def _curve_phases(profile: Profile, reference: dict[str, float]) -> list[Phase]:
    """Per share, each path in turn: drift on the machine hits both paths alike."""
    phases: list[Phase] = []
    for share in profile.curve_shares:
        for name, path in _PATHS:
            writes = path == SEND_PATH
            phases.append(
                Phase(
                    f"{LOAD_CURVE}:{name}:{share:g}",
                    path,
                    profile.curve_seconds,
                    profile.concurrency,
                    rate=max(1.0, round(reference[name] * share, 1)),
                    writes=writes,
                    drain=writes,
                    connections=ROUND_ROBIN,
                    histogram=True,
                )
            )
    return phases


def _sweep_phases(profile: Profile) -> list[Phase]:
    """Per count, a warm-up and the measured closed loop, on the same connections."""
    phases: list[Phase] = []
    for count in profile.sweep_connections:
        phases += [
            Phase(
                f"warmup:send-message:{count}",
                SEND_PATH,
                profile.sweep_warmup_seconds,
                count,
                drain=True,
            ),
            Phase(
                f"{CONCURRENCY}:send-message:{count}",
                SEND_PATH,
                profile.sweep_seconds,
                count,
                drain=True,
                connections=ROUND_ROBIN,
                histogram=True,
            ),
        ]
    return phases


def _step_run(impl: Impl, scenario: str, result: dict[str, Any], outcome: LoadOutcome) -> Run:
    """One step of a curve as a run; its percentiles are the histogram's (p99.9 included)."""
    endpoint = result["label"].split(":")[1]
    run = _base_run(impl, DEFAULT_VARIANT, scenario, result["path"], [result])
    run["endpoint"] = endpoint
    run["connections"] = result["connections"]
    hist = result.get("latency_hist")
    if hist:
        summary = LogHistogram.from_json(hist).summary()
        run["latency_ms"] = {
            "p50": summary["p50"],
            "p90": summary["p90"],
            "p99": summary["p99"],
            "max": summary["max"],
            "mean": summary["mean"],
        }
        run["latency_p999_ms"] = summary["p999"]
        run["latency_hist"] = hist
    return _with_memory(run, outcome)


def curves(
    bench: Bench, profile: Profile, impl: Impl, wanted: Sequence[str], runs: Sequence[Run]
) -> list[Run]:
    """The ``wanted`` curves of ``impl``, on one stack, by one load-generator process.

    ``runs`` are the comparison's runs so far: the load curve is scaled from the
    throughput scenario's figures for ``impl``, or measures its own first.
    """
    reference = reference_rps(runs, impl.id)
    source = FROM_THROUGHPUT
    with bench.stack(impl, delay_ms=0.0) as running:
        phases = [_warmup(profile)]
        if LOAD_CURVE in wanted:
            if len(reference) < len(_PATHS):
                reference, source = _measure_reference(bench, running, profile), MEASURED_HERE
            if len(reference) < len(_PATHS):
                raise RuntimeError(f"{impl.id}: no closed-loop throughput to scale the curve from")
            phases += _curve_phases(profile, reference)
        if CONCURRENCY in wanted:
            phases += _sweep_phases(profile)
        outcome = bench.load(running, _spec(profile, phases), timeout=_budget(profile, phases))
    out: list[Run] = []
    for phase, result in zip(phases, outcome.phases, strict=True):
        scenario = phase.label.partition(":")[0]
        if scenario not in (LOAD_CURVE, CONCURRENCY):
            continue  # a warm-up
        run = _step_run(impl, scenario, result, outcome)
        if scenario == LOAD_CURVE:
            closed = reference[run["endpoint"]]
            run["offered_rps"] = float(phase.rate or 0.0)
            # The profile's share, not the rate's rounding of it: steps line up across paths.
            run["offered_share"] = float(phase.label.split(":")[2])
            run["closed_rps"] = closed
            run["closed_source"] = source
            run["wait_ms"] = result.get("wait_ms", {})
            run["dispatch_lag_ms"] = result.get("dispatch_lag_ms", {})
        run["web_processes"] = impl.web_processes
        out.append(run)
    return out


def _seconds(profile: Profile, impl: Impl, wanted: Sequence[str]) -> float:
    """The estimate of one implementation's curves, from the profile's parameters.

    Each phase pays about 50 ms of hand-over, and each open loop's last
    requests finish after it; opening connections costs about a millisecond
    each. A phase that writes waits for its log to catch up: a moment where the
    web process writes, about a quarter of a second where a worker behind a
    broker does (measured: the curves of the stack with a worker process took
    6 s more than a single-process stack's, on the same phases).
    """
    p = profile
    drain = 0.25 if len(impl.processes) > 1 else 0.0
    secs = start_seconds(impl) + 0.7 + p.warmup_seconds + drain
    if LOAD_CURVE in wanted:
        phases = len(p.curve_shares) * len(_PATHS)
        secs += phases * (1.1 * p.curve_seconds + 0.05) + len(p.curve_shares) * drain
    if CONCURRENCY in wanted:
        for count in p.sweep_connections:
            secs += p.sweep_warmup_seconds + p.sweep_seconds + 0.1 + 0.001 * count + 2 * drain
    return secs


def plan_curve_steps(
    bench: Bench,
    profile: Profile,
    impls: Sequence[Impl],
    scenarios: Sequence[str],
    runs: Sequence[Run],
) -> list[Step]:
    """One step per implementation for the curves among ``scenarios``.

    ``runs`` is the list the comparison fills as it goes: by the time a curve step
    runs, it holds the throughput scenario's figures.
    """
    wanted = [s for s in (LOAD_CURVE, CONCURRENCY) if s in scenarios]
    if not wanted:
        return []
    return [
        Step(
            "+".join(wanted),
            impl.id,
            DEFAULT_VARIANT,
            f"{' and '.join(wanted)} · {impl.id}",
            _seconds(profile, impl, wanted),
            partial(curves, bench, profile, impl, wanted, runs),
        )
        for impl in curve_impls(impls, profile.curve_count)
    ]


def curve_impls(impls: Sequence[Impl], count: int) -> list[Impl]:
    """The ``count`` implementations a short profile draws curves for (0: every one).

    One of each kind of web server first (how many processes, event loop or
    request threads), in the registry's order, so that a short run still sees
    each kind.
    """
    if not count:
        return list(impls)
    kinds: dict[tuple[int | None, int], Impl] = {}
    for impl in impls:
        kinds.setdefault((impl.request_threads, impl.web_processes), impl)
    firsts = list(kinds.values())
    return [*firsts, *(i for i in impls if i not in firsts)][:count]

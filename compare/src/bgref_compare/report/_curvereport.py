"""The report's section on the curves: latency against offered load, and the concurrency sweep.

Rendered from ``results.json`` alone, with the report's own table and image
helpers (passed in: the report imports this module). Results from before the curves existed
(their parameters name neither scenario) get no section, so that older reports
render as they did; a run that chose the curves and measured none says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bgref_compare import registry
from bgref_compare._results import Results, Run, find_runs

from ._curveverdicts import (
    FAIR_MULTIPLE,
    GENERATOR_LIMIT,
    HOLDS_SHARE,
    KNEE_FACTOR,
    ROUNDS,
    generator_bound,
    holds_throughput,
    knee,
    load_curve,
    queueing,
    saturation,
    steady,
    sweep,
    threads_suffice,
)
from ._figures import fmt, ms, pct

__all__ = ["CURVE_SCENARIOS", "curve_lines", "serving"]

CURVE_SCENARIOS = ("load-curve", "concurrency")
_ENDPOINTS = ("send-message", "baseline")


def serving(impl: str) -> str:
    """How ``impl``'s web server takes requests and where its work goes, from the registry."""
    if impl not in registry.IMPL_IDS:
        return "not in today's registry"
    entry = registry.get(impl)
    procs = entry.web_processes
    plural = "es" if procs > 1 else ""
    if entry.request_threads is None:
        server = f"an event loop in {procs} web process{plural}, every connection at once"
    else:
        server = (
            f"{procs} web process{plural} × {entry.request_threads} request threads, "
            f"{procs * entry.request_threads} requests at a time"
        )
    workers = entry.default_workers
    work = {
        "event-loop": "the work on the same loop",
        "thread-pool": f"the work on {workers} {entry.workers_noun} per process",
        "worker-queue": f"the work in {workers} worker processes behind a broker",
    }[entry.model]
    return f"{server}; {work}"


def _lost(steps: list[Run]) -> str:
    """Acknowledged messages missing from the log, and written twice, over the steps."""
    lost = sum(s["lost"] or 0 for s in steps)
    return f"{fmt(lost)} / {fmt(sum(s['duplicated'] or 0 for s in steps))}"


def _slots(impl: str) -> int | None:
    """How many requests ``impl``'s server works on at once; None for an event loop."""
    if impl not in registry.IMPL_IDS:
        return None
    entry = registry.get(impl)
    threads = entry.request_threads
    return None if threads is None else threads * entry.web_processes


def _impls(runs: list[Run]) -> list[str]:
    return sorted({r["impl"] for r in runs}, key=registry.order)


def _cell(run: Run | None, show: Callable[[Run], str]) -> str:
    if run is None:
        return "–"
    short = run["scenario"] == "concurrency" and not steady(run)
    return show(run) + (" ⚠" if generator_bound(run) else "") + (" †" if short else "")


Lines = Callable[..., list[str]]


def _load_section(results: Results, table: Lines, image: Lines) -> list[str]:
    runs = find_runs(results, scenario="load-curve")
    if not runs:
        return ["_This run measured no load curve._", ""]
    shares = sorted({r.get("offered_share", 0.0) for r in runs})
    matrix: list[list[str]] = []
    knees: list[list[str]] = []
    for impl in _impls(runs):
        for endpoint in _ENDPOINTS:
            steps = load_curve(results, impl, endpoint)
            if not steps:
                continue
            by_share = {s.get("offered_share"): s for s in steps}
            errors = sum(s["errors"] for s in steps)
            matrix.append(
                [f"`{impl}`", endpoint, fmt(steps[0].get("closed_rps"))]
                + [
                    _cell(by_share.get(share), lambda r: ms(r["latency_ms"]["p99"]))
                    for share in shares
                ]
                + [fmt(errors), _lost(steps)]
            )
            found = knee(steps)
            where = (
                f"{fmt(found.offered_rps)}/s ({pct(found.share)})"
                if found.reached
                else f"not reached up to {pct(steps[-1].get('offered_share'))}"
            )
            top = steps[-1]
            knees.append(
                [
                    f"`{impl}`",
                    endpoint,
                    ms(found.low_p99_ms),
                    where,
                    ms(found.p99_ms) if found.reached else "–",
                    f"{fmt(top['rps'])} of {fmt(top.get('offered_rps'))}/s, p99.9 "
                    f"{ms(top.get('latency_p999_ms'))}, max {ms(top['latency_ms']['max'])}",
                    _generator(steps),
                ]
            )
    return [
        *image("load-curve.png"),
        "Response p99 by offered load (a share of the path's closed-loop throughput):",
        "",
        *table(
            [
                "implementation",
                "path",
                "closed-loop /s",
                *(pct(s) for s in shares),
                "errors",
                "lost / dup",
            ],
            matrix,
        ),
        f"The knee is the offered load at which the p99 first reached {fmt(KNEE_FACTOR)}× "
        "its value at the lowest load:",
        "",
        *table(
            [
                "implementation",
                "path",
                "p99 at the lowest load",
                "knee: offered (share)",
                "p99 there",
                "highest load: achieved of offered",
                "generator: CPU, late p99 (most)",
            ],
            knees,
        ),
        "The generator's lateness is how far behind its schedule it sent (p99 of a step, the "
        "worst step): it counts in the latency, as a client's own delay would.",
        "",
    ]


def _generator(steps: list[Run]) -> str:
    """The generator's busiest CPU share and its worst lateness over a curve's steps."""
    cpu = max(s.get("loadgen_cpu", 0.0) for s in steps)
    lags = [s.get("dispatch_lag_ms", {}).get("p99") for s in steps]
    late = max((lag for lag in lags if lag is not None), default=None)
    return f"{pct(cpu)}, {ms(late)}"


def _sweep_section(results: Results, table: Lines, image: Lines) -> list[str]:
    runs = find_runs(results, scenario="concurrency")
    if not runs:
        return ["_This run measured no concurrency sweep._", ""]
    counts = sorted({r.get("concurrency", 0) for r in runs})
    rows: list[list[str]] = []
    readings: list[str] = []
    for impl in _impls(runs):
        steps = sweep(results, impl)
        by_count = {s.get("concurrency"): s for s in steps}
        busiest = max(s.get("loadgen_cpu", 0.0) for s in steps)
        rows.append(
            [f"`{impl}`"]
            + [
                _cell(by_count.get(c), lambda r: f"{fmt(r['rps'])} / {ms(r['latency_ms']['p99'])}")
                for c in counts
            ]
            + [fmt(sum(s["errors"] for s in steps)), _lost(steps), pct(busiest)]
        )
        first, holds, fair = saturation(steps), holds_throughput(steps), queueing(steps)
        threads = threads_suffice(steps, _slots(impl))
        readings.append(
            f"- **`{impl}`**, {serving(impl)}: throughput reached {pct(HOLDS_SHARE)} of its "
            f"peak at **{first.outcome or '–'}** connection(s) ({first.basis})"
            + (
                f"; its request threads **{threads.outcome}** ({threads.basis})"
                if threads.outcome
                else ""
            )
            + f"; with the most connections it **{holds.outcome or 'was not measured'}** "
            f"({holds.basis}); its clients queued **{fair.outcome or 'not measured'}** "
            f"({fair.basis})."
        )
    return [
        *image("concurrency.png"),
        "Acknowledged requests/s and response p99 by connections:",
        "",
        *table(
            [
                "implementation",
                *(f"{c} conn." for c in counts),
                "errors",
                "lost / dup",
                "generator CPU, most",
            ],
            rows,
        ),
        *readings,
        "",
        f"Holding means keeping {pct(HOLDS_SHARE)} of the peak; queueing fairly means a p99 "
        f"within {fmt(FAIR_MULTIPLE)}× the wait that connections ÷ throughput gives, the mean "
        "wait when every connection takes its turn.",
        "",
    ]


def curve_lines(results: Results, table: Lines, image: Lines) -> list[str]:
    """The section, or nothing for results whose run did not choose the curves.

    ``table(headers, rows)`` and ``image(name)`` render as the rest of the report does.
    """
    params: dict[str, Any] = results["meta"].get("params", {})
    chosen = [s for s in CURVE_SCENARIOS if s in (params.get("scenarios") or [])]
    measured = [s for s in CURVE_SCENARIOS if find_runs(results, scenario=s)]
    if not chosen and not measured:
        return []
    shares = params.get("curve_shares") or []
    lines = [
        "## 5. Curves: latency against offered load, and connections",
        "",
        "Without simulated work. **Load curve**: per path, open loops at fixed rates, "
        f"{', '.join(pct(s) for s in shares)} of the path's closed-loop throughput (the "
        "throughput scenario's in this run; `closed_source` in results.json says where the "
        "curve measured its own), "
        f"{fmt(params.get('curve_seconds'), 2)} s each, over up to "
        f"{params.get('concurrency')} connections; latency runs from each request's *intended* "
        "send time, so a request that waited for the server or a connection counts the wait "
        "(coordinated omission corrected), and is counted into a log-bucket histogram with 1% "
        "resolution for the p99.9. **Concurrency**: closed loops on send-message at "
        f"{', '.join(str(c) for c in params.get('sweep_connections') or [])} connections, "
        f"{fmt(params.get('sweep_seconds'), 2)} s each after "
        f"{fmt(params.get('sweep_warmup_seconds'), 2)} s of warm-up at the same count. Both "
        "keep their connections where the server's kernel put them, as the throughput "
        "scenario does. A step where the load generator was busy "
        f"{pct(GENERATOR_LIMIT)} of the time or more is marked ⚠, a sweep step with fewer "
        f"than {ROUNDS} answers per connection †; both are left out of the knee and the "
        "verdicts.",
        "",
    ]
    if "load-curve" in chosen or "load-curve" in measured:
        lines += ["### Latency against offered load", "", *_load_section(results, table, image)]
    if "concurrency" in chosen or "concurrency" in measured:
        lines += [
            "### Throughput and p99 against connections",
            "",
            *_sweep_section(results, table, image),
        ]
    return lines

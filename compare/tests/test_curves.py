"""The curves: the histogram, the knee, the sweep's verdicts, their results and report."""

from __future__ import annotations

import asyncio
import math
import random
from pathlib import Path
from typing import Any

import pytest
from _runs import percentiles, run

from bgref_compare import registry
from bgref_compare._compare import assemble
from bgref_compare._profile import PROFILES, SCENARIOS
from bgref_compare._results import Run, load_results, write_results
from bgref_compare.loadgen._histogram import LogHistogram
from bgref_compare.loadgen._loadgen import LoadRunner, LoadSpec, Phase, allow_connections
from bgref_compare.report._curveverdicts import (
    KNEE_FACTOR,
    holds_throughput,
    knee,
    queueing,
    saturation,
    threads_suffice,
)
from bgref_compare.report._report import render_report, write_report
from bgref_compare.scenarios._curves import (
    CONCURRENCY,
    LOAD_CURVE,
    curve_impls,
    plan_curve_steps,
    reference_rps,
)
from bgref_compare.scenarios._trivial import TrivialProtocol

# One implementation served by an event loop, one by a fixed pool of request threads.
LOOP = next(i for i in registry.IMPLS if i.request_threads is None)
THREADS = next(i for i in registry.IMPLS if i.request_threads is not None)


def _nearest_rank(ordered: list[float], q: float) -> float:
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


# --- the histogram ---------------------------------------------------------------------------


def test_histogram_percentiles_are_within_its_precision() -> None:
    rng = random.Random(14)
    # Latencies over five decades, a long tail included.
    values = [math.exp(rng.uniform(math.log(0.05), math.log(5000.0))) for _ in range(20_000)]
    hist = LogHistogram.of(values, precision=0.01)
    ordered = sorted(values)
    for q in (0.0, 0.5, 0.9, 0.99, 0.999):
        exact = _nearest_rank(ordered, q)
        got = hist.percentile(q)
        assert got is not None
        assert abs(got - exact) <= 0.01 * exact, (q, got, exact)
    assert hist.percentile(1.0) == ordered[-1]
    assert hist.summary()["max"] == round(ordered[-1], 3)
    assert hist.summary()["mean"] == pytest.approx(sum(values) / len(values), abs=1e-3)
    # A few hundred buckets for five decades at 1%, not one per value.
    assert len(hist.counts) < 700


def test_histogram_merges_and_round_trips() -> None:
    first = LogHistogram.of([0.0005, 0.2, 1.0, 1.0, 30.0])
    second = LogHistogram.of([2.0, 400.0])
    first.merge(second)
    both = LogHistogram.of([0.0005, 0.2, 1.0, 1.0, 30.0, 2.0, 400.0])
    assert first.counts == both.counts
    assert first.summary() == both.summary()
    again = LogHistogram.from_json(first.to_json())
    assert again.counts == first.counts
    assert again.summary() == first.summary()
    # Below its lowest bucket a value is still counted, and reported as itself.
    assert again.percentile(0.0) == 0.0005
    with pytest.raises(ValueError, match="different buckets"):
        first.merge(LogHistogram(precision=0.05))


def test_an_empty_histogram_reports_nothing() -> None:
    empty = LogHistogram()
    assert empty.percentile(0.99) is None
    assert set(empty.summary().values()) == {None}
    assert LogHistogram.from_json(empty.to_json()).total == 0
    with pytest.raises(ValueError, match="quantile"):
        empty.percentile(1.5)


def test_the_generator_counts_every_answer_into_the_histogram() -> None:
    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(TrivialProtocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        phases = (
            Phase("open", "/baseline/", 0.3, 4, rate=200.0, writes=False, histogram=True),
            Phase("closed", "/baseline/", 0.2, 4, writes=False),
        )
        async with server:
            return await LoadRunner(LoadSpec("127.0.0.1", port, "c1", phases)).run()

    opened, closed = asyncio.run(main())["phases"]
    hist = LogHistogram.from_json(opened["latency_hist"])
    assert hist.total == opened["ok"] == 60
    assert hist.summary()["max"] == opened["latency_ms"]["max"]
    assert "latency_hist" not in closed


# --- the knee and the sweep's verdicts ---------------------------------------------------------


def _step(share: float, p99: float, **extra: Any) -> Run:
    """A load-curve step (or, with ``scenario``, a sweep step) with this p99."""
    fields: dict[str, Any] = {
        "endpoint": "send-message",
        "offered_share": share,
        "offered_rps": 1000.0 * share,
        "closed_rps": 1000.0,
        "rps": 1000.0 * share,
        "ok": 10_000,
        "latency_ms": percentiles(p99 / 2, p99),
        "latency_p999_ms": p99 * 1.5,
    }
    fields.update(extra)
    impl, variant = fields.pop("impl", LOOP.id), fields.pop("variant", "default")
    return run(impl, variant, fields.pop("scenario", LOAD_CURVE), **fields)


def test_the_knee_is_where_p99_first_reaches_ten_times_its_low_load_value() -> None:
    flat = [_step(s, p) for s, p in ((0.1, 1.0), (0.5, 1.5), (0.9, 4.0), (1.0, 9.9))]
    found = knee(flat)
    assert not found.reached
    assert found.low_p99_ms == 1.0
    bends = [*flat, _step(1.1, 80.0)]
    found = knee(bends)
    assert found.reached
    assert (found.offered_rps, found.share, found.p99_ms) == (1100.0, 1.1, 80.0)
    assert KNEE_FACTOR == 10.0
    # A step where the generator was the limit counts for nothing.
    assert not knee([*flat, _step(1.1, 80.0, loadgen_cpu=0.95)]).reached
    assert knee([]).low_p99_ms is None


def _sweep(points: list[tuple[int, float, float]]) -> list[Run]:
    return [
        _step(1.0, p99, scenario=CONCURRENCY, concurrency=n, rps=rps, impl=THREADS.id)
        for n, rps, p99 in points
    ]


def test_the_sweep_verdicts() -> None:
    # Throughput saturates at 8 and holds; at 512 the p99 is 1.2x the fair turn (200 ms).
    fair = _sweep([(1, 900.0, 2.0), (8, 2400.0, 5.0), (32, 2500.0, 15.0), (512, 2560.0, 240.0)])
    assert saturation(fair).outcome == "8"
    assert "8 → 2,400/s" in saturation(fair).basis
    assert holds_throughput(fair).outcome == "holds"
    verdict = queueing(fair)
    assert verdict.outcome == "fair"
    assert "512 ÷ 2,560/s = 200 ms (1.2×)" in verdict.basis
    # Throughput falls with many clients, and some of them wait ten turns.
    worse = _sweep([(1, 900.0, 2.0), (8, 2400.0, 5.0), (512, 1200.0, 4300.0)])
    assert holds_throughput(worse).outcome == "drops"
    assert queueing(worse).outcome == "unfair"
    # A step the generator limited is not a figure of the server.
    limited = _sweep([(1, 900.0, 2.0), (8, 2400.0, 5.0)])
    limited.append(
        _step(1.0, 900.0, scenario=CONCURRENCY, concurrency=512, rps=10.0, loadgen_cpu=1.0)
    )
    assert holds_throughput(limited).outcome == "holds"
    # Nor is a step too short for its connections to answer twice each: its first burst.
    short = _sweep([(1, 900.0, 2.0), (8, 2400.0, 5.0)])
    short.append(_step(1.0, 900.0, scenario=CONCURRENCY, concurrency=512, rps=16.0, ok=516))
    assert holds_throughput(short).outcome == "holds"
    assert queueing(short).basis.startswith("p99 5.00 ms at 8 connections")
    assert saturation([]).outcome is None


def test_whether_the_request_threads_suffice() -> None:
    # Saturated at 8 connections: 8 request threads were enough, 4 were not.
    steps = _sweep([(1, 900.0, 2.0), (8, 2400.0, 5.0), (32, 2500.0, 15.0), (512, 2560.0, 240.0)])
    assert threads_suffice(steps, 8).outcome == "suffice"
    verdict = threads_suffice(steps, 4)
    assert verdict.outcome == "do not suffice"
    assert verdict.basis == "saturated at 8 connection(s), beyond its 4 request threads"
    assert threads_suffice(steps, None).outcome is None  # an event loop: no such bound


# --- results, report and plan --------------------------------------------------------------------


def _results(scenarios: list[str] | None, *, measured: bool = True) -> Any:
    runs: list[Run] = []
    for impl in (LOOP, THREADS):
        for endpoint in ("send-message", "baseline"):
            for share, p99 in ((0.1, 1.0), (0.5, 1.2), (0.9, 3.0), (1.1, 40.0)):
                runs.append(_step(share, p99, impl=impl.id, endpoint=endpoint))
        runs += [
            _step(1.0, p99, scenario=CONCURRENCY, concurrency=n, rps=rps, impl=impl.id)
            for n, rps, p99 in ((1, 900.0, 2.0), (8, 2400.0, 5.0), (512, 2500.0, 300.0))
        ]
    params: dict[str, Any] = {"name": "test", "concurrency": 32, "curve_shares": [0.1, 1.1]}
    if scenarios is not None:
        params["scenarios"] = scenarios
    meta = {"params": params, "cpus": {}, "versions": {}}
    return assemble(meta, {}, runs if measured else [], [])


def test_curve_results_round_trip_and_render_alike(tmp_path: Path) -> None:
    results = _results([LOAD_CURVE, CONCURRENCY])
    write_results(tmp_path / "results.json", results)
    again = load_results(tmp_path / "results.json")
    assert again == results
    text = render_report(again, charts=[])
    assert text == render_report(results, charts=[])
    assert "## 5. Curves" in text
    # The knee table: 40 ms at 110% is 40x the 1 ms at 10%.
    assert f"| `{LOOP.id}` | send-message | 1.00 ms | 1,100/s (110%) | 40.0 ms |" in text
    assert f"**`{THREADS.id}`**, {THREADS.web_processes} web processes × " in text
    assert "queued **fair**" in text
    slots = THREADS.web_processes * (THREADS.request_threads or 0)
    assert (
        f"its request threads **suffice** (saturated at 8 connection(s), within its {slots} "
        in text
    )


def test_older_results_have_no_curve_section_and_a_run_without_curves_says_so() -> None:
    assert "## 5. Curves" not in render_report(_results(None, measured=False), charts=[])
    chosen_but_none = render_report(_results([LOAD_CURVE], measured=False), charts=[])
    assert "_This run measured no load curve._" in chosen_but_none
    assert "concurrency sweep" not in chosen_but_none


def test_the_curve_charts(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    report = write_report(_results([LOAD_CURVE, CONCURRENCY]), tmp_path)
    assert {p.name for p in tmp_path.glob("*.png")} == {"load-curve.png", "concurrency.png"}
    assert "![Response p99 against offered load" in report.read_text()


def test_the_curve_is_scaled_from_the_throughput_runs_of_this_run() -> None:
    runs = [
        _step(1.0, 1.0, scenario="throughput", endpoint="send-message", rps=900.0),
        _step(1.0, 1.0, scenario="throughput", endpoint="baseline", rps=1000.0),
        _step(1.0, 1.0, scenario="throughput", endpoint="send-message", rps=5.0, variant="x"),
    ]
    assert reference_rps(runs, LOOP.id) == {"send-message": 900.0, "baseline": 1000.0}
    assert reference_rps(runs, THREADS.id) == {}


def test_the_curves_fit_their_budgets() -> None:
    impls = list(registry.IMPLS)

    def seconds(profile: str) -> float:
        steps = plan_curve_steps(None, PROFILES[profile], impls, SCENARIOS, [])  # type: ignore[arg-type]
        return sum(step.seconds for step in steps)

    # The default profile's room for them (compare/README.md), and CI's for the smoke.
    assert seconds("default") <= 90
    assert seconds("smoke") <= 15
    assert len(plan_curve_steps(None, PROFILES["smoke"], impls, SCENARIOS, [])) == 1  # type: ignore[arg-type]
    # A short profile sees an event loop and a thread pool before a second of either.
    assert curve_impls(impls, 2) == [LOOP, THREADS]
    assert curve_impls(impls, 0) == impls
    assert plan_curve_steps(None, PROFILES["default"], impls, ["throughput"], []) == []  # type: ignore[arg-type]
    for profile in PROFILES.values():
        assert len(profile.curve_shares) >= (8 if profile.name in ("default", "full") else 3)
        assert (profile.curve_shares[0], profile.curve_shares[-1]) == (0.1, 1.1)


def test_the_declared_request_threads_are_gunicorns() -> None:
    from bgref_flask import gunicorn_conf

    by_package = {impl.package: impl for impl in registry.IMPLS}
    assert by_package["bgref-flask"].request_threads == gunicorn_conf.threads


def test_the_generator_makes_room_for_its_connections() -> None:
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1024:
        pytest.skip("the hard limit leaves no room to test in")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        allow_connections(512)
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 512 + 64
        allow_connections(8)  # never lowered
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 512 + 64
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

"""results.json round trip, the headline ratios, and the report rendered from results alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _runs import percentiles, run

from bgref_compare._compare import assemble
from bgref_compare._results import Run, load_results, write_results
from bgref_compare.report._findings import tutorial_claims
from bgref_compare.report._report import render_report, write_report

# Some requests refused, so that the report's error columns have something to show.
_REFUSED = {
    "ok": 990,
    "errors": 10,
    "rejected": 10,
    "latency_ms": percentiles(1.0, 10.0),
    "completion_ms": percentiles(2.0, 20.0),
}


def _run(impl: str, variant: str, scenario: str, **extra: Any) -> Run:
    return run(impl, variant, scenario, **{**_REFUSED, **extra})


def _results() -> Any:
    runs: list[Run] = []
    lab = {
        "default": (0.95, 2500.0),
        "def-task": (0.45, 800.0),
        "wrong-way": (0.9, 20.0),
        "async-blocking": (0.93, 20.0),
    }
    for impl, ratio, capacity in (
        ("fastapi", 0.95, 2500.0),
        ("starlette", 0.97, 3000.0),
        ("flask", 0.95, 160.0),
        ("celery", 0.55, 40.0),
    ):
        variants = lab if impl == "fastapi" else {"default": (ratio, capacity)}
        runs.append(
            _run(
                impl,
                "default",
                "throughput",
                endpoint="baseline",
                rps=2000.0,
                completion_ms=None,
                rps_min=1900.0,
                rps_max=2100.0,
            )
        )
        for variant, (r, cap) in variants.items():
            runs.append(
                _run(
                    impl,
                    variant,
                    "throughput",
                    endpoint="send-message",
                    rps=2000.0 * r,
                    ratio=r,
                    ratio_reps=[r, r],
                    rps_min=1800.0 * r,
                    rps_max=2100.0 * r,
                )
            )
            slow_latency = (
                percentiles(55.0, 60.0) if variant == "wrong-way" else percentiles(1.0, 5.0)
            )
            runs.append(
                _run(
                    impl,
                    variant,
                    "slow-work",
                    load="below",
                    capacity_rps=cap,
                    offered_rps=cap / 2,
                    completed_rps=cap / 2,
                    latency_ms=slow_latency,
                    backlog=[[0.1, 3], [0.2, 5]],
                )
            )
            runs.append(
                _run(
                    impl,
                    variant,
                    "slow-work",
                    load="above",
                    capacity_rps=cap,
                    offered_rps=cap * 1.5,
                    completed_rps=cap,
                    backlog_max=500,
                    backlog=[[0.1, 30], [0.2, 500]],
                    peak_rss_mb=80.0,
                )
            )
    for impl, counts in (("celery", (1, 2, 4)), ("flask", (2, 8))):
        for workers in counts:
            runs.append(
                _run(impl, "default", "scale-out", workers=workers, completed_rps=19.0 * workers)
            )
    meta = {
        "params": {"name": "test", "delay_ms": 50.0, "concurrency": 32},
        "cpus": {},
        "load_average": [0.1],
        "load_average_end": [0.2],
        "versions": {"fastapi": "1"},
    }
    check = {
        "capacity_rps": 20000.0,
        "loadgen_cpu": 0.9,
        "uvloop": True,
        "writer_us": {"write": 3.0, "awrite": 4.0},
    }
    return assemble(meta, check, runs, [])


def test_ratios_and_the_generator_check() -> None:
    results = _results()
    assert results["ratios"] == {"fastapi": 0.95, "starlette": 0.97, "flask": 0.95, "celery": 0.55}
    assert results["variant_ratios"]["fastapi/def-task"] == 0.45
    # The best is the fastest repetition of any path (a baseline's 2,100 rps here).
    assert results["loadgen"]["best_impl_rps"] == 2100.0
    assert results["loadgen"]["headroom"] == 9.52
    assert results["loadgen"]["capacity_basis"] == "measured"
    assert results["loadgen"]["ok"] is True


def test_the_generator_check_when_the_trivial_server_was_the_limit() -> None:
    runs = _results()["runs"]
    # 3,000 rps at 50% of the generator's CPU: 6,000 per CPU-second, enough for 2 x 2,100.
    check = {"capacity_rps": 3000.0, "loadgen_cpu": 0.5, "cpu_bound_rps": 6000.0}
    results = assemble({}, check, runs, [])
    assert results["loadgen"]["capacity_basis"] == "per CPU-second"
    assert results["loadgen"]["ok"] is True
    check["loadgen_cpu"] = 0.95  # the generator itself was the limit: 3,000 is all it does
    assert assemble({}, check, runs, [])["loadgen"]["ok"] is False
    assert results["faults"] == []


def test_round_trip(tmp_path: Path) -> None:
    results = _results()
    write_results(tmp_path / "results.json", results)
    assert load_results(tmp_path / "results.json") == results
    (tmp_path / "other.json").write_text("[]")
    with pytest.raises(ValueError, match="not a comparison"):
        load_results(tmp_path / "other.json")


def test_report_reads_the_same_from_results_json(tmp_path: Path) -> None:
    results = _results()
    results["meta"]["params"]["worker_processes"] = (1, 2, 4)  # as the profile holds it
    write_results(tmp_path / "results.json", results)
    again = load_results(tmp_path / "results.json")
    assert render_report(again, charts=[]) == render_report(results, charts=[])
    assert "worker_processes=(1, 2, 4)" in render_report(again, charts=[])


def test_report_renders_every_section_from_results_alone() -> None:
    results = _results()
    results["faults"] = [{"impl": "celery", "fault": "kill web", "acked": 10, "lost": 0}]
    results["failures"] = [
        {
            "impl": "x",
            "variant": "default",
            "scenario": "slow-work",
            "error": "Traceback\nRuntimeError: boom",
        }
    ]
    text = render_report(results, charts=[])
    for heading in (
        "## Summary",
        "## Which approach when",
        "## 1. Throughput",
        "## 2. Slow work",
        "## 3. Pitfall lab",
        "## 4. Scale-out",
        "## Faults",
        "## Not measured",
        "## Method",
    ):
        assert heading in text
    assert "RuntimeError: boom" in text
    assert "kill web" in text
    assert "0.55 ✅" in text  # celery's target is 0.5
    assert "![" not in text  # no charts were drawn


def test_tutorial_claims_follow_the_figures() -> None:
    claims = {claim: verdict for claim, verdict, _ in tutorial_claims(_results())}

    def verdict(start: str) -> str:
        return next(v for c, v in claims.items() if c.startswith(start))

    assert verdict("“Calling the background function directly") == "**holds**"
    # The async task beats the def task on both counts here: the advice does not hold.
    assert verdict("“Background tasks should be regular") == "**does not hold**"


def test_charts_and_report_files(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    report = write_report(_results(), tmp_path)
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == [
        "backlog.png",
        "completion.png",
        "latency.png",
        "memory.png",
        "scaleout.png",
        "throughput.png",
    ]
    assert "![Throughput" in report.read_text()

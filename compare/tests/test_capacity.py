"""Capacities: the theory declared on the registry, the validation's verdict, and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_report import _results, _run

from bgref_compare._results import load_results
from bgref_compare.loadgen._connection import BALANCED, ROUND_ROBIN
from bgref_compare.registry import IMPLS, Impl, Process
from bgref_compare.report._report import render_report
from bgref_compare.scenarios._capacity import (
    GAP,
    Theory,
    declared_theory,
    describe_gap,
    falls_behind,
    keeps_up,
    spread_policy,
    theory,
    verdict,
)

_REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference-run" / "results.json"


def _impl(**fields: Any) -> Impl:
    return Impl(id="x", package="x", path="x", processes=(Process("web", ("x",)),), **fields)


def test_theory_is_workers_times_processes_over_work_time() -> None:
    pooled = _impl(web_processes=2, default_workers=4, workers_per_web_process=True)
    expected = theory(pooled, 50.0)
    assert expected is not None
    assert expected.rps == 160.0
    assert expected.formula == "4 workers × 2 web processes ÷ 50 ms"
    scaled = theory(pooled, 50.0, workers=8)
    assert scaled is not None
    assert scaled.rps == 320.0
    # Workers in processes of their own do not multiply by the web processes.
    assert theory(_impl(web_processes=2, default_workers=2), 50.0).rps == 40.0  # type: ignore[union-attr]
    # Work that awaits declares no workers: no theory to compare with.
    assert theory(_impl(), 50.0) is None


def test_a_worker_that_awaits_its_work_counts_the_messages_it_awaits_at_once() -> None:
    # Taskiq's worker: 100 tasks at once, each awaiting its group's writes together.
    awaiting = _impl(
        default_workers=2, jobs_per_worker=100, messages_per_job=32, slow_groups="concurrent"
    )
    expected = theory(awaiting, 50.0)
    assert expected is not None
    assert expected.rps == 128_000.0
    assert expected.formula == "2 workers × 3,200 messages awaited at once ÷ 50 ms"
    # A group written one message after the other is one message at a time.
    handing_off = _impl(
        default_workers=2, jobs_per_worker=1, messages_per_job=32, slow_groups="hand-off"
    )
    assert theory(handing_off, 50.0).rps == 40.0  # type: ignore[union-attr]
    # Why a measurement sits far below such a theory: the CPU, not the workers.
    words = describe_gap(-0.93, None, at_once=3_200)
    assert words.startswith("93% below theory: each worker process awaits up to 3,200")
    assert "the servers' one CPU" in words


def test_a_registered_implementations_theory_is_the_registrys_today() -> None:
    # A theory recorded under an older formula renders with the registry's.
    taskiq = next(impl for impl in IMPLS if impl.id == "taskiq")
    run = {"impl": "taskiq", "variant": "default", "workers": 1, "theory_rps": 20.0}
    expected = declared_theory(run, 50.0)
    assert expected == theory(taskiq, 50.0, 1)
    assert expected is not None
    assert expected.rps > 20.0
    # An implementation no longer registered keeps what its run recorded.
    gone = {"impl": "gone", "variant": "default", "theory_rps": 20.0, "theory_formula": "f"}
    assert declared_theory(gone, 50.0) == Theory(20.0, "f")


def test_the_declared_inputs_are_the_packages_defaults() -> None:
    """The registry's figures for the theory are the ones the servers start with."""
    from bgref_celery._settings import Settings
    from bgref_flask import DEFAULT_WORKERS, gunicorn_conf

    by_package = {impl.package: impl for impl in IMPLS}
    flask = by_package["bgref-flask"]
    assert flask.web_processes == gunicorn_conf.workers
    assert flask.default_workers == DEFAULT_WORKERS
    assert by_package["bgref-celery"].default_workers == Settings.workers


def test_every_declared_theory_has_its_inputs() -> None:
    for impl in IMPLS:
        if impl.workers_env is not None:
            assert impl.default_workers is not None, impl
        if impl.workers_per_web_process:
            assert impl.default_workers is not None, impl


def test_a_multi_process_server_gets_the_balanced_policy() -> None:
    assert spread_policy(_impl(web_processes=2)) == BALANCED
    assert spread_policy(_impl()) == ROUND_ROBIN


def test_the_validation_verdict() -> None:
    kept = {"drain_s": 0.1, "drain_complete": True, "offered_rps": 90.0, "completed_rps": 90.0}
    behind = {"drain_s": 0.9, "drain_complete": True, "offered_rps": 110.0, "completed_rps": 95}
    long_drain = {"drain_s": 1.5, "drain_complete": True, "offered_rps": 90.0, "completed_rps": 90}
    assert keeps_up(kept)
    assert not falls_behind(kept)
    assert falls_behind(behind)
    assert keeps_up(behind)
    assert not keeps_up(long_drain)
    assert falls_behind(long_drain)
    assert not keeps_up({"drain_s": 0.1, "drain_complete": False})
    assert verdict(True, True) == "confirmed"
    assert verdict(False, True) == "too high"
    assert verdict(True, False) == "too low"
    assert verdict(None, True) == "not validated"


def _with_capacity(results: Any, measured: float, outcome: str) -> Any:
    """``results`` with a capacity run for flask that measured ``measured`` against 160/s."""
    under = {"offered_rps": measured * 0.9, "completed_rps": measured * 0.9, "drain_s": 0.1}
    over = {"offered_rps": measured * 1.1, "completed_rps": measured, "drain_s": 0.8}
    check = _run(
        "flask",
        "default",
        "capacity",
        capacity_rps=measured,
        connections=BALANCED,
        web_processes=2,
        theory_rps=160.0,
        theory_formula="4 pool threads × 2 web processes ÷ 50 ms",
        validation={
            "under": under | {"kept_up": True},
            "over": over | {"fell_behind": outcome != "too low"},
        },
        capacity_verdict=outcome,
    )
    results["runs"].append(check)
    for run in results["runs"]:
        if run["impl"] == "flask" and run["scenario"] == "slow-work":
            run["capacity_rps"] = measured
    return results


def test_the_report_flags_a_capacity_that_disagrees_with_the_declared_formula() -> None:
    text = render_report(_with_capacity(_results(), 84.0, "confirmed"), [])
    row = next(line for line in text.splitlines() if line.startswith("| flask | balanced"))
    assert "84.0" in row
    assert "= 160" in row
    assert "-48% ⚠" in row
    assert "84.0/s measured against 4 pool threads × 2 web processes ÷ 50 ms = 160/s" in text
    assert "48% below theory" in text
    # The advice puts the figure beside the formula and says they disagree.
    advice = next(line for line in text.splitlines() if "its bounded pool" in line)
    assert "84 messages/s (validated) (theory: 4 pool threads × 2 web processes" in advice
    assert "48% below theory" in advice


def test_a_capacity_within_the_gap_is_not_flagged() -> None:
    text = render_report(_with_capacity(_results(), 150.0, "confirmed"), [])
    assert GAP > 1 - 150 / 160
    row = next(line for line in text.splitlines() if line.startswith("| flask | balanced"))
    assert "⚠" not in row
    assert "150.0/s measured against" not in text
    advice = next(line for line in text.splitlines() if "its bounded pool" in line)
    assert "150 messages/s (validated)" in advice
    assert "below theory" not in advice


def test_a_capacity_that_fails_its_validation_is_not_quoted() -> None:
    text = render_report(_with_capacity(_results(), 84.0, "too low"), [])
    summary = next(line for line in text.splitlines() if line.startswith("| `flask` |"))
    assert "not quoted (84 failed validation: too low)" in summary
    advice = next(line for line in text.splitlines() if "its bounded pool" in line)
    assert "is not quoted" in advice
    assert "failed its validation (too low)" in advice


def test_the_hot_connection_finding_gives_both_figures() -> None:
    results = _results()
    hot_leg = {"offered_rps": 131.0, "completed_rps": 90.0, "drain_s": 2.5}
    results["runs"].append(
        _run(
            "flask",
            "default",
            "hot-connections",
            capacity_rps=146.0,
            hot_capacity_rps=77.0,
            web_processes=2,
            hot_under=hot_leg | {"kept_up": False, "fell_behind": True},
        )
    )
    text = render_report(results, [])
    assert "loads fewer than all of `flask`'s 2 web processes: its capacity was 77.0" in text
    assert "messages/s through a most-recent-first pool" in text
    assert "against 146.0/s" in text
    assert "(53% of it)" in text
    assert "it fell behind: 90/s completed, the last line 2.50 s after the end" in text


def test_the_published_reference_run_still_renders() -> None:
    results = load_results(_REFERENCE)
    if results["schema"] != 1:
        return  # regenerated since: the other tests cover the new shape
    text = render_report(results, [])
    # Measured before validation existed: it says so, and sets the figure beside the
    # declared theory instead of stating a formula its figure contradicts.
    assert "(not validated)" in text
    advice = next(line for line in text.splitlines() if "its bounded pool" in line)
    assert "(theory: 4 pool threads × 2 web processes ÷ 50 ms = 160/s)" in advice
    assert "below theory" in advice
    assert "Capacity is pool threads × gunicorn workers" not in text

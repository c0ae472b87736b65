"""The pitfall lab: which variants run what, the fault claims' rule, the per-approach tables."""

from __future__ import annotations

from typing import Any

import pytest

from bgref_compare import registry
from bgref_compare._compare import assemble
from bgref_compare._profile import PROFILES
from bgref_compare._results import Run
from bgref_compare.report._report import render_report
from bgref_compare.report._verdicts import fault_claim
from bgref_compare.scenarios._labplan import LOADS, lab_variants, loads_of
from bgref_compare.scenarios._variantfaults import MATRIX_NAMES, variant_faults

# --- what runs --------------------------------------------------------------------------------


def test_every_declared_loss_is_put_through_its_fault() -> None:
    for impl in registry.IMPLS:
        pairs = {(v.name, f) for v, f in variant_faults(impl)}
        for variant in impl.variants:
            for fault in variant.loses:
                if fault in registry.STRIKES:
                    assert (variant.name, MATRIX_NAMES[fault]) in pairs, (impl.id, variant.name)


def test_a_contrast_variant_gets_the_fault_its_sibling_declares() -> None:
    # A variant that claims the contract beside a sibling that loses to a SIGTERM is
    # stopped too (what the setting buys), unless the work left the web process.
    for impl in registry.IMPLS:
        losers = [v for v in impl.variants if registry.SIGTERM in v.loses]
        for variant in impl.variants:
            stopped = registry.SIGTERM in impl.variant_faults(variant)
            expected = not impl.survives_web_crash and (
                variant in losers or (bool(losers) and variant.claims_contract)
            )
            assert stopped == expected, (impl.id, variant.name)


def test_a_variant_served_by_the_docs_worker_is_struck_on_its_pool() -> None:
    # Celery's own worker runs threads; its lab's variants run the docs' prefork
    # pool, whose pool processes die alone: that fault applies to them only.
    celery = registry.get("celery")
    assert not celery.pool_workers
    for variant in celery.variants:
        assert variant.worker is not None
        served = celery.serving(variant)
        assert served.pool_workers
        assert [p.name for p in served.processes] == [p.name for p in celery.processes]
        assert "--pool" not in served.processes[1].argv
        assert registry.WORKER_CHILD_SIGKILL in celery.variant_faults(variant)
    # A variant without a worker of its own is served by the implementation's.
    rq = registry.get("rq")
    assert all(rq.serving(v).processes[1:] == rq.processes[1:] for v in rq.variants)


def test_faults_that_stop_a_process_run_last_and_per_impl_keeps_the_first_variants() -> None:
    for impl in registry.IMPLS:
        pairs = variant_faults(impl)
        stops = [i for i, (_, f) in enumerate(pairs) if f == "graceful-stop"]
        assert stops == list(range(len(pairs) - len(stops), len(pairs)))
        first = variant_faults(impl, per_impl=1)
        assert len({v.name for v, _ in first}) == (1 if pairs else 0)


def test_the_shorter_profiles_run_a_variant_at_the_loads_that_show_it() -> None:
    shown = [v for impl in registry.IMPLS for v in impl.variants if v.shows_at != LOADS]
    assert shown, "no variant declares the loads that show its difference"
    for variant in shown:
        assert loads_of(variant, every_load=False) == variant.shows_at
        assert loads_of(variant, every_load=True) == LOADS
    assert loads_of(None, every_load=False) == LOADS
    assert not PROFILES["default"].every_load
    assert PROFILES["full"].every_load


def test_at_least_two_variants_of_three_approaches_are_benchmarked() -> None:
    counts = {impl.id: len(lab_variants(impl)) for impl in registry.IMPLS}
    assert sum(1 for n in counts.values() if n >= 2) >= 3, counts
    assert all(len(lab_variants(impl, 1)) <= 1 for impl in registry.IMPLS)


# --- the rule ---------------------------------------------------------------------------------


def _row(lost: int | None, dup: int = 0, declared: str | None = None) -> dict[str, Any]:
    return {
        "impl": "x",
        "variant": "v",
        "fault": "graceful-stop",
        "acknowledged": 100,
        "written": 100 - (lost or 0),
        "lost": lost,
        "duplicated": dup,
        "errors": 0,
        "slowest_ms": 1.0,
        "declared": declared,
        "delay_ms": 1500.0,
    }


@pytest.mark.parametrize(
    ("lost", "dup", "declared", "outcome"),
    [
        (40, 0, "killed", "holds"),
        (0, 0, "killed", "does not hold"),
        (0, 0, None, "holds"),
        (0, 3, None, "holds in part"),
        (2, 0, None, "does not hold"),
        (None, 0, None, None),
    ],
)
def test_a_fault_claim_follows_the_row(
    lost: int | None, dup: int, declared: str | None, outcome: str | None
) -> None:
    claim, verdict = fault_claim(_row(lost, dup, declared), "web SIGTERM")
    assert verdict.outcome == outcome
    assert claim.startswith("`v` loses " + ("work" if declared else "nothing"))
    if lost is not None:
        assert f"lost {lost} of 100 acknowledged, {dup} written twice" in verdict.basis
    assert "1,500 ms of work" in verdict.basis
    assert ("not seen in this run" in verdict.basis) == (outcome == "does not hold" and not lost)


# --- the report -------------------------------------------------------------------------------


def _pct(p50: float, p99: float) -> Any:
    return {"p50": p50, "p90": p99, "p99": p99, "max": p99, "mean": p50}


def _run(impl: str, variant: str, scenario: str, **extra: Any) -> Run:
    run: dict[str, Any] = {
        "impl": impl,
        "variant": variant,
        "scenario": scenario,
        "path": "/x/",
        "requests": 100,
        "ok": 100,
        "errors": 0,
        "rejected": 0,
        "failed": 0,
        "rps": 1000.0,
        "latency_ms": _pct(1.0, 5.0),
        "completion_ms": _pct(50.0, 70.0),
        "lost": 0,
        "duplicated": 0,
        "peak_rss_mb": 60.0,
    }
    run.update(extra)
    return run  # type: ignore[return-value]


def _lab_results(impl: str, variant: str) -> Any:
    runs = [
        _run(impl, "default", "throughput", endpoint="baseline", rps=2000.0, completion_ms=None),
        _run(impl, "default", "throughput", endpoint="send-message", rps=1800.0, ratio=0.9),
        _run(impl, variant, "throughput", endpoint="send-message", rps=1600.0, ratio=0.8),
        _run(impl, "default", "slow-work", load="above", capacity_rps=160.0, peak_threads=20),
        _run(
            impl,
            variant,
            "slow-work",
            load="above",
            capacity_rps=900.0,
            peak_threads=345,
            peak_rss_mb=210.0,
            completion_ms=_pct(60.0, 2345.0),
        ),
    ]
    meta = {"params": {"name": "test", "delay_ms": 50.0, "variant_share": 0.25}, "cpus": {}}
    results = assemble(meta, {}, runs, [])
    base = {"written": 250, "errors": 0, "slowest_ms": 3.0, "duplicated": 0}
    results["faults"] = [
        {
            **base,
            "impl": impl,
            "variant": "default",
            "fault": "graceful-stop",
            "acknowledged": 250,
            "lost": 0,
        },
        {
            **base,
            "impl": impl,
            "variant": variant,
            "fault": "graceful-stop",
            "acknowledged": 250,
            "lost": 190,
            "written": 60,
            "delay_ms": 1500.0,
            "declared": "threads still running are killed",
        },
    ]
    return results


def test_the_lab_renders_one_table_per_approach_with_its_verdicts() -> None:
    impl = next(i for i in registry.IMPLS if any(registry.SIGTERM in v.loses for v in i.variants))
    variant = next(v.name for v in impl.variants if registry.SIGTERM in v.loses)
    text = render_report(_lab_results(impl.id, variant), charts=[])
    lab = text.split("## 3. Pitfall lab: tuned against idiomatic", 1)[1].split("\n## ", 1)[0]
    assert f"### `{impl.id}`" in lab
    row = next(line for line in lab.splitlines() if line.startswith(f"| `{variant}` |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # ratio, capacity (probed: no validation run), completion p99 below and above,
    # peak RSS and threads above, what the fault lost
    assert cells[2:] == [
        "0.80",
        "900 (probed)",
        "–",
        "2,345 ms",
        "210",
        "345",
        "web SIGTERM: lost 190 of 250",
    ]
    tuned = next(line for line in lab.splitlines() if line.startswith("| tuned |"))
    assert "web SIGTERM: lost 0 of 250" in tuned
    assert "each variant got 25% of a slice" in lab
    # The declared loss was measured: the claim holds, with its figures.
    assert (
        f"`{variant}` loses work to web SIGTERM: threads still running are killed. **holds**. "
        f"Decided by: `{variant}` under web SIGTERM: lost 190 of 250 acknowledged" in lab
    )
    assert f"The tuning pays over `{variant}`" in lab
    assert "**holds in part**" in lab  # a better ratio, a lower capacity
    # Which approach when: the idiomatic cost and what the tuning buys, in figures.
    advice = text.split("## Which approach when", 1)[1].split("\n## ", 1)[0]
    assert f"`{variant}`: ratio 0.80, capacity 900 (probed), 345 threads and 210 MB" in advice
    assert "As tuned here: ratio 0.90, capacity 160 (probed), 20 threads" in advice
    # The matrix keeps the implementations' own rows; the variants' sit in a table beside.
    faults = text.split("## Faults", 1)[1]
    assert f"| fault | {impl.id} |" in faults
    assert "### The variants under their faults" in faults
    assert f"| `{impl.id}` | tuned | web SIGTERM | – | – | lost 0 of 250" in faults
    assert f"| `{impl.id}` | `{variant}` | web SIGTERM | 1,500 | threads still" in faults


def test_results_before_schema_4_render_the_old_lab() -> None:
    impl = registry.IMPLS[0]
    results = _lab_results(impl.id, impl.variants[0].name)
    results["schema"] = 3  # the curves, before the variants' rows
    text = render_report(results, charts=[])
    assert "## 3. Pitfall lab: the tutorial's claims" in text
    assert "tuned against idiomatic" not in text
    assert "as its docs and tutorials write it" not in text

"""The worker queues side by side: each cell from the run's figures, the advice from the table."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from _runs import percentiles, run

from bgref_compare import registry
from bgref_compare._compare import assemble
from bgref_compare._results import Results, Run
from bgref_compare.report import render_report
from bgref_compare.report._queues import queue_advice, queue_rows, queue_section

OTHER = "otherqueue"


@pytest.fixture
def two_queues(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The registry with a second worker queue: the first one's entry, renamed."""
    first = next(i for i in registry.IMPLS if i.model == "worker-queue")
    other = dataclasses.replace(first, id=OTHER, variants=(), default_workers=4)
    monkeypatch.setattr(registry, "IMPLS", (*registry.IMPLS, other))
    monkeypatch.setattr(registry, "IMPL_IDS", (*registry.IMPL_IDS, OTHER))
    return first.id, OTHER


def _queue_runs(
    impl: str, ratio: float, capacity: float, p99: float, rss: list[float]
) -> list[Run]:
    return [
        run(impl, "default", "throughput", endpoint="baseline", rps=4000.0, completion_ms=None),
        run(impl, "default", "throughput", endpoint="send-message", rps=4000 * ratio, ratio=ratio),
        run(
            impl,
            "default",
            "slow-work",
            load="below",
            offered_rps=capacity / 2,
            rps=capacity / 2,
            capacity_rps=capacity,
            completion_ms=percentiles(p99 / 2, p99),
        ),
        *[
            run(
                impl,
                "default",
                "scale-out",
                workers=workers,
                completed_rps=capacity / 2 * workers * (0.9 if workers == 4 else 1.0),
                peak_rss_mb=mb,
            )
            for workers, mb in zip((1, 2, 4), rss, strict=True)
        ],
    ]


def _fault(impl: str, fault: str, lost: int, duplicated: int) -> dict[str, Any]:
    return {
        "impl": impl,
        "fault": fault,
        "acknowledged": 250,
        "written": 250 - lost,
        "lost": lost,
        "duplicated": duplicated,
        "errors": 0,
    }


def _results(first: str) -> Results:
    runs = [
        *_queue_runs(first, 0.45, 38.0, 80.0, [200.0, 260.0, 380.0]),
        *_queue_runs(OTHER, 0.30, 76.0, 120.0, [150.0, 170.0, 210.0]),
    ]
    results = assemble({}, {}, runs, [])
    results["faults"] = [
        _fault(first, "worker-crash", 0, 3),
        _fault(first, "broker-down", 0, 0),
        _fault(OTHER, "worker-crash", 2, 0),
        _fault(OTHER, "broker-down", 0, 1),
    ]
    return results


def test_each_queue_gets_its_row_from_the_run(two_queues: tuple[str, str]) -> None:
    first, other = two_queues
    rows = {row.impl: row for row in queue_rows(_results(first))}
    assert rows[first].ratio == 0.45
    assert rows[first].completion_p99_ms == 80.0
    # 38/s with the first queue's default workers, 76/s with the other's four.
    assert rows[first].per_worker_rps == 38.0 / (registry.get(first).default_workers or 1)
    assert rows[other].per_worker_rps == 19.0
    # Memory per added worker from the scale-out's fewest and most workers.
    assert rows[first].mb_per_worker == pytest.approx((380 - 200) / 3)
    assert rows[other].mb_per_worker == pytest.approx((210 - 150) / 3)
    assert rows[first].scale_efficiency == pytest.approx(0.9)
    assert (rows[first].lost, rows[first].duplicated, rows[first].faults) == (0, 3, 2)
    assert (rows[other].lost, rows[other].duplicated) == (2, 1)
    table = "\n".join(queue_section(_results(first)))
    assert "## Worker queues side by side" in table
    assert f"| `{other}` | 0.30 |" in table
    assert "0 / 3 in 2" in table


def test_the_advice_names_the_best_queue_for_each_need(two_queues: tuple[str, str]) -> None:
    first, other = two_queues
    (advice,) = queue_advice(_results(first))
    assert (
        f"the most requests for the web's CPU: `{first}`, 0.45 against 0.30 (`{other}`)" in advice
    )
    assert f"the shortest wait until the work is done: `{first}`" in advice
    assert f"the least memory per added worker: `{other}`, 20 MB a worker " in advice
    assert f"nothing acknowledged lost under the fault matrix: `{first}` (" in advice
    report = render_report(_results(first), [])
    assert "**Which worker queue.**" in report
    assert "## Worker queues side by side" in report


def test_one_queue_renders_no_comparison() -> None:
    first = next(i.id for i in registry.IMPLS if i.model == "worker-queue")
    results = assemble({}, {}, _queue_runs(first, 0.45, 38.0, 80.0, [1.0, 2.0, 3.0]), [])
    assert queue_section(results) == []
    assert queue_advice(results) == []


def test_figures_within_the_noise_of_one_run_name_no_winner(two_queues: tuple[str, str]) -> None:
    first, other = two_queues
    runs = [
        *_queue_runs(first, 0.45, 38.0, 80.0, [200.0, 260.0, 380.0]),
        *_queue_runs(OTHER, 0.30, 76.0, 82.0, [150.0, 170.0, 210.0]),
    ]
    (advice,) = queue_advice(assemble({}, {}, runs, []))
    # 80 against 82 ms: 2.5% apart, no lead that one run can tell.
    assert (
        f"the shortest wait until the work is done: `{first}` and `{other}` alike "
        "(completion p99 80.0 ms, completion p99 82.0 ms, within 5% of each other)"
    ) in advice
    # 0.45 against 0.30 is a lead.
    assert f"the most requests for the web's CPU: `{first}`, 0.45 against 0.30" in advice

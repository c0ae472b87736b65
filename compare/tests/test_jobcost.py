"""A queued message's CPU taken apart: the web alone, then the workers alone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bgref_compare._results import Run
from bgref_compare.registry import IMPLS, get
from bgref_compare.report._cpu import parts_sentence
from bgref_compare.scenarios._jobcost import JobCost, job_cost, job_cost_lines

_COST = JobCost(
    connections=32,
    messages=1_000,
    jobs=50,
    web_s=0.2,
    redis_queue_s=0.01,
    workers_s=0.1,
    redis_drain_s=0.01,
    drain_wall_s=0.3,
    baseline_us=128.0,
)


def test_the_parts_add_up_to_a_message_and_imply_a_ratio() -> None:
    cost = _COST
    assert cost.per_job == 20.0
    assert cost.us(cost.web_s) == pytest.approx(200.0)
    assert cost.message_us == pytest.approx(320.0)
    assert cost.implied_ratio == pytest.approx(0.4)
    lines = job_cost_lines(IMPLS[0], [cost])
    assert "1,000 messages in 50 jobs (20.0 a job)" in lines[2]
    assert "(2,000 a job)" in lines[5]
    assert lines[-1].split()[-1] == "0.40"


def test_nothing_measured_implies_nothing() -> None:
    empty = replace(_COST, messages=0, jobs=0)
    assert (empty.per_job, empty.message_us, empty.implied_ratio) == (0.0, 0.0, 0.0)


def test_an_approach_without_a_broker_has_no_jobs_to_measure() -> None:
    with pytest.raises(ValueError, match="no jobs"):
        job_cost(get("fastapi"))


@pytest.mark.slow
def test_a_queue_s_messages_are_queued_by_the_web_then_all_written_by_its_workers() -> None:
    impl = get("rq")
    (cost,) = job_cost(impl, connections=(16,), seconds=0.5)
    # The web's jobs hold the messages of concurrent requests, at most a group each.
    assert cost.messages > 100
    assert 1 <= cost.per_job <= impl.messages_per_job
    # The web worked while the workers were frozen, the workers once thawed.
    assert cost.web_s > 0
    assert cost.workers_s > 0
    assert 0.0 < cost.implied_ratio < 1.0


def _run(ratio: float, implied: float) -> Run:
    run: Run = {"ratio": ratio}  # type: ignore[typeddict-item]
    run["job_cost"] = {
        **_COST.to_json(),
        "implied_ratio": implied,
    }
    return run


def test_the_report_says_when_the_parts_alone_miss_the_target() -> None:
    sentence = parts_sentence(_run(0.33, 0.43), target=0.5)
    assert "the web 200 µs a message against 128 µs a baseline request (also" in sentence
    assert "(2,000 µs a job of 20.0 messages)" in sentence
    assert "a ratio of 0.43 if nothing were lost to sharing one CPU" in sentence
    assert "under the target of 0.5" in sentence
    # What the target leaves beyond a baseline request (128 µs at 0.5), and what the
    # parts take of it: the web's 72 µs extra, the workers' 100 and Redis's 20.
    assert (
        "At the target of 0.5 a message may cost 2 times a baseline request's server CPU: "
        "128 µs beyond the web's own 128 µs, of which the web's extra 72 µs, the workers' "
        "100 µs and Redis's 20 µs take 150% before anything is lost to sharing one CPU."
    ) in sentence


def test_a_ratio_over_its_target_needs_no_budget() -> None:
    assert "At the target" not in parts_sentence(_run(0.55, 0.7), target=0.5)


def test_the_report_says_what_sharing_the_cpu_costs() -> None:
    sentence = parts_sentence(_run(0.41, 0.5), target=0.5)
    assert "under the target" not in sentence
    assert "The measured 0.41 is what remains" in sentence


def test_a_run_without_the_parts_says_nothing_of_them() -> None:
    assert parts_sentence({"ratio": 0.9}, target=0.9) == ""  # type: ignore[typeddict-item]

"""The report's verdict rules: each outcome follows its stated rule and prints its figures."""

from __future__ import annotations

from _runs import run

from bgref_compare._compare import assemble
from bgref_compare._results import Results, Run
from bgref_compare.report._figures import Figures
from bgref_compare.report._findings import approach_advice, tutorial_claims
from bgref_compare.report._verdicts import (
    advice_is_better,
    direct_call_blocks,
    overload,
    responds_first,
    responsive,
    responsive_claim,
)

DELAY = 50.0


def _slow(
    impl: str,
    variant: str,
    load: str,
    *,
    offered: float,
    acked: float,
    p50: float,
    p99: float,
    rejected: int = 0,
    backlog: int = 10,
) -> Run:
    return run(
        impl,
        variant,
        "slow-work",
        load=load,
        offered_rps=offered,
        rps=acked,
        rejected=rejected,
        capacity_rps=offered / (0.5 if load == "below" else 1.5),
        latency_ms={"p50": p50, "p90": p99, "p99": p99, "max": p99, "mean": p50},
        backlog_max=backlog,
    )


def _throughput(impl: str, variant: str, ratio: float) -> list[Run]:
    return [
        run(impl, "default", "throughput", endpoint="baseline", rps=7000.0, completion_ms=None),
        run(impl, variant, "throughput", endpoint="send-message", rps=7000 * ratio, ratio=ratio),
    ]


def _published_like() -> Results:
    """The figures of the 2026-11-29 reference run that contradicted its old wording."""
    runs = [
        *_throughput("fastapi", "default", 0.93),
        *_throughput("fastapi", "def-task", 0.41),
        *_throughput("fastapi", "wrong-way", 0.88),
        *_throughput("fastapi", "async-blocking", 0.83),
        *_throughput("starlette", "default", 0.93),
        _slow("fastapi", "default", "below", offered=2501, acked=2501, p50=0.83, p99=3.47),
        _slow(
            "fastapi",
            "default",
            "above",
            offered=7504,
            acked=4483,
            p50=5068,
            p99=9675,
            backlog=425,
        ),
        _slow("fastapi", "def-task", "below", offered=386, acked=386, p50=0.56, p99=2.52),
        _slow(
            "fastapi",
            "def-task",
            "above",
            offered=1157,
            acked=1157,
            p50=0.96,
            p99=414,
            backlog=8682,
        ),
        _slow("fastapi", "wrong-way", "below", offered=10, acked=10, p50=51.5, p99=53.4),
        _slow("fastapi", "wrong-way", "above", offered=29, acked=20, p50=2349, p99=17420),
        _slow("fastapi", "async-blocking", "below", offered=10, acked=10, p50=1.16, p99=2.82),
        _slow("fastapi", "async-blocking", "above", offered=29, acked=20, p50=2314, p99=17373),
        _slow("starlette", "default", "below", offered=5134, acked=5133, p50=0.82, p99=17.6),
        _slow(
            "starlette",
            "default",
            "above",
            offered=15402,
            acked=8066,
            p50=6552,
            p99=12391,
            backlog=925,
        ),
    ]
    meta = {"params": {"name": "test", "delay_ms": DELAY}}
    return assemble(meta, {}, runs, [])


def test_responsive_means_a_p99_under_the_work() -> None:
    results = _published_like()
    fig = Figures.of(results, "fastapi", "def-task")
    below = responsive(fig, fig.below, DELAY)
    assert below.outcome == "responsive"
    assert "p99 2.52 ms < 50 ms" in below.basis
    above = responsive(fig, fig.above, DELAY)
    assert above.outcome == "not responsive"
    assert "p99 414 ms ≥ 50 ms (1,157/s offered, above capacity)" in above.basis
    assert responsive(fig, None, DELAY).outcome is None


def test_overload_tells_refusing_queueing_and_slowing_apart() -> None:
    results = _published_like()
    # Acknowledging 60% of what was offered, refusing nothing: the excess waited in
    # the client. This is not "no back-pressure", which the old wording claimed.
    slows = overload(Figures.of(results, "fastapi"))
    assert slows.outcome == "slows"
    assert "acknowledged 4,483 of 7,504/s offered (60%), refused none" in slows.basis
    assert "response p50 5,068 ms" in slows.basis
    assert "backlog peak 425" in slows.basis
    queues = overload(Figures.of(results, "fastapi", "def-task"))
    assert queues.outcome == "queues"
    assert "backlog peak 8,682" in queues.basis
    runs = [
        _slow("flask", "default", "above", offered=126, acked=100, p50=1, p99=4, rejected=26),
    ]
    refuses = overload(Figures.of(assemble({}, {}, runs, []), "flask"))
    assert refuses.outcome == "refuses"
    assert "refused 26 of 1,000 requests" in refuses.basis
    assert overload(Figures.of(results, "celery")).outcome is None


def test_the_advice_does_not_claim_what_the_data_contradicts() -> None:
    advice = approach_advice(_published_like())[0]
    assert "no back-pressure" not in advice
    assert "no limit" not in advice
    assert "the excess waited in the client" in advice
    assert "`starlette` acknowledged 8,066 of 15,402/s offered (52%)" in advice


def test_responsive_is_judged_at_both_loads_for_every_kind_of_task() -> None:
    results = _published_like()
    figs = [Figures.of(results, "fastapi", v) for v in ("def-task", "default", "async-blocking")]
    verdict = responsive_claim(figs, DELAY)
    # Below capacity even the task that blocks the loop answered in time, and above
    # it none did: the old "holds for tasks that do not block the loop" is unsupported.
    assert verdict.outcome == "holds below capacity only"
    assert "`fastapi · async-blocking` p99 2.82 ms < 50 ms" in verdict.basis
    assert "`fastapi` p99 9,675 ms ≥ 50 ms" in verdict.basis
    claims = {claim: words for claim, words, _ in tutorial_claims(results)}
    words = next(w for c, w in claims.items() if "keep your API responsive" in c)
    assert words == "**holds below capacity only**"


def test_responsive_claim_outcomes() -> None:
    def fig(below: float, above: float, variant: str) -> Figures:
        runs = [
            _slow("x", variant, "below", offered=10, acked=10, p50=1, p99=below),
            _slow("x", variant, "above", offered=30, acked=30, p50=1, p99=above),
        ]
        return Figures.of(assemble({}, {}, runs, []), "x", variant)

    assert responsive_claim([fig(2, 3, "a"), fig(2, 3, "b")], DELAY).outcome == "holds"
    assert responsive_claim([fig(2, 3, "a"), fig(60, 3, "b")], DELAY).outcome == "holds in part"
    assert responsive_claim([fig(60, 60, "a")], DELAY).outcome == "does not hold"
    assert responsive_claim([Figures.of(assemble({}, {}, [], []), "x")], DELAY).outcome is None


def test_the_tutorial_rules() -> None:
    results = _published_like()
    default = Figures.of(results, "fastapi")
    def_task = Figures.of(results, "fastapi", "def-task")
    wrong = Figures.of(results, "fastapi", "wrong-way")
    blocks = direct_call_blocks(wrong, def_task, DELAY)
    assert blocks.outcome == "holds"
    assert "`wrong-way` median 51.5 ms, `def-task` median 0.56 ms" in blocks.basis
    # The def task loses on throughput and on capacity.
    better = advice_is_better(def_task, default)
    assert better.outcome == "does not hold"
    assert "ratio 0.41 (`def-task`) against 0.93 (`default`)" in better.basis
    first = responds_first(def_task, DELAY)
    assert first.outcome == "holds in part"
    assert "ratio 0.41 without work" in first.basis
    assert responds_first(wrong, DELAY).outcome == "does not hold"


def test_the_inline_def_endpoint_is_judged_apart_from_the_blocked_loop() -> None:
    results = _published_like()
    results["runs"] += [
        _slow("fastapi", "def-endpoint", "below", offered=300, acked=300, p50=51.0, p99=60.0),
        _slow("fastapi", "def-endpoint", "above", offered=900, acked=700, p50=900, p99=2000),
    ]
    evidence = next(
        e for c, _, e in tutorial_claims(results) if c.startswith("“Calling the background")
    )
    assert "In a plain `def` endpoint, which runs in the thread pool" in evidence
    assert "`def-endpoint` median 51.0 ms" in evidence
    assert "it completed 600 messages/s against 20 for `/wrong-way/`" in evidence


def test_the_tuning_pays_only_beyond_what_the_run_can_tell_apart() -> None:
    def lab(ratio: float, capacity: float) -> Results:
        runs = [
            *_throughput("celery", "default", 0.45),
            *_throughput("celery", "delay", ratio),
            _slow("celery", "default", "below", offered=19.5, acked=19.5, p50=60, p99=80),
            _slow(
                "celery",
                "delay",
                "below",
                offered=capacity / 2,
                acked=capacity / 2,
                p50=60,
                p99=80,
            ),
        ]
        return assemble({}, {}, runs, [])

    def verdict(ratio: float, capacity: float) -> str | None:
        results = lab(ratio, capacity)
        tuned, variant = Figures.of(results, "celery"), Figures.of(results, "celery", "delay")
        return advice_is_better(tuned, variant).outcome

    # 39/s against 38/s and 0.45 against 0.42: the run cannot tell them apart.
    assert verdict(0.42, 38.0) == "does not hold"
    assert (
        "is none"
        in advice_is_better(
            Figures.of(lab(0.42, 38.0), "celery"), Figures.of(lab(0.42, 38.0), "celery", "delay")
        ).basis
    )
    # Beyond both margins: the tuning pays.
    assert verdict(0.06, 30.0) == "holds"
    # A clear ratio, a capacity within 10%: in part.
    assert verdict(0.06, 37.0) == "holds in part"


def test_the_advice_brackets_a_capacity_that_failed_its_validation() -> None:
    results = _published_like()
    # fastapi's probe kept up at 110% of its figure, starlette's fell behind at 90%.
    for impl, measured, outcome in (
        ("fastapi", 2840.0, "too low"),
        ("starlette", 9986.0, "too high"),
    ):
        results["runs"].append(
            run(impl, "default", "capacity", capacity_rps=measured, capacity_verdict=outcome)
        )
    advice = approach_advice(results)[0]
    assert "–/s" not in advice
    assert "more than 2,840/s (110% of that still kept up) (`fastapi`)" in advice
    assert "less than 9,986/s (90% of that fell behind) (`starlette`)" in advice

"""The report's conclusions, written from the measured figures: which approach when, and which
of the tutorial's claims hold.

Every number in these paragraphs is read from ``results.json``; where a figure
was not measured in a run, the paragraph says so instead of guessing.
"""

from __future__ import annotations

from ._figures import Figures, fmt, ms, pct
from ._results import Results

__all__ = ["approach_advice", "tutorial_claims"]


def _delay(results: Results) -> float:
    return float(results["meta"].get("params", {}).get("delay_ms", 50.0))


def _scale_text(fig: Figures) -> str | None:
    points: list[tuple[int, float]] = []
    for run in fig.scale:
        workers, completed = run.get("workers"), run.get("completed_rps")
        if workers and completed is not None:
            points.append((workers, completed))
    if len(points) < 2:
        return None
    steps = ", ".join(f"{w} → {fmt(c)}/s" for w, c in points)
    (w0, c0), (w1, c1) = points[0], points[-1]
    linear = c0 * w1 / w0 if c0 else None
    eff = f" ({pct(c1 / linear)} of linear from {w0})" if linear else ""
    return f"{steps}{eff}"


def approach_advice(results: Results) -> list[str]:
    """Paragraphs of 'which approach when', each built from this run's figures."""
    delay = _delay(results)
    out: list[str] = []
    asyncs = [Figures.of(results, i) for i in ("starlette", "fastapi")]
    asyncs = [f for f in asyncs if f.send or f.below]
    if asyncs:
        ratios = " and ".join(f"{pct(f.ratio)} (`{f.impl}`)" for f in asyncs)
        caps = " and ".join(f"{fmt(f.capacity)}/s (`{f.impl}`)" for f in asyncs)
        worst = max(asyncs, key=lambda f: f.above.get("backlog_max", 0) if f.above else 0)
        backlog = worst.above.get("backlog_max") if worst.above else None
        out.append(
            "**Short work that may die with the process (a log line, a metric, a cache "
            "refresh): `starlette` or `fastapi`, with an `async` task that awaits.** "
            f"Send-message kept {ratios} of the baseline's throughput, and with {fmt(delay)} ms "
            f"of simulated work per message one process completed {caps}, because the work "
            "awaits instead of holding a thread. The backlog lives in the process: above "
            f"capacity it reached {fmt(backlog)} messages (`{worst.impl}`, peak "
            f"{fmt(worst.above['peak_rss_mb'] if worst.above else None)} MB), with no limit "
            "and no back-pressure, and whatever is queued when the process dies is gone."
        )
    flask = Figures.of(results, "flask")
    if flask.send or flask.below:
        above = flask.above
        if above and above["rejected"]:
            pressure = (
                f"Above capacity it answered {fmt(above['rejected'])} of {fmt(above['requests'])} "
                "requests with 503 instead of queueing without bound"
            )
        elif above:
            pressure = (
                f"Above capacity its bounded queue absorbed the excess (backlog peak "
                f"{fmt(above.get('backlog_max'))}) without refusing any request in this run"
            )
        else:
            pressure = "Its behaviour above capacity was not measured in this run"
        scale = _scale_text(flask)
        out.append(
            "**Slow or blocking work with bounded memory and honest back-pressure: `flask` with "
            f"its bounded pool.** Send-message kept {pct(flask.ratio)} of the baseline's "
            f"throughput. Capacity is pool threads × gunicorn workers ÷ work time: "
            f"{fmt(flask.capacity)} messages/s "
            f"with the default pool and {fmt(delay)} ms of work"
            + (f"; by pool size: {scale}" if scale else "")
            + f". {pressure}; peak memory "
            f"{fmt(above['peak_rss_mb'] if above else None)} MB. Queued work is drained on a "
            "graceful stop and lost on a crash."
        )
    celery = Figures.of(results, "celery")
    if celery.send or celery.below:
        scale = _scale_text(celery)
        others = [r for i, r in results["ratios"].items() if i != "celery" and r is not None]
        if celery.ratio is not None and others and celery.ratio < min(others):
            cost = "It costs the most per request"
        else:
            cost = "It pays a broker round trip per request"
        out.append(
            "**Work that must survive a crash of the web process, or outgrow one machine: "
            "`celery`.** The queue is in Redis, so acknowledged work outlives the web process "
            f"(the fault scenarios check it). {cost}: send-message kept "
            f"{pct(celery.ratio)} of the baseline's throughput "
            f"({fmt(celery.send['rps'] if celery.send else None)} against "
            f"{fmt(celery.baseline['rps'] if celery.baseline else None)} requests/s), and "
            f"{fmt(celery.above['peak_rss_mb'] if celery.above else None)} MB for the web "
            "process, the workers and Redis. Workers add capacity"
            + (f": {scale}" if scale else " (scale-out not measured in this run)")
            + "."
        )
    blocking = Figures.of(results, "fastapi", "async-blocking")
    wrong = Figures.of(results, "fastapi", "wrong-way")
    if blocking.below or wrong.below:
        out.append(
            "**Never block the event loop.** An `async def` task that calls blocking code "
            f"completed {fmt(blocking.capacity)} messages/s with {fmt(delay)} ms of work (one "
            "at a time, the loop stalled meanwhile), and every other request waited: response "
            f"p99 {ms(blocking.latency(blocking.above, 'p99'))} above that rate. Calling the "
            "work inside the endpoint (`/wrong-way/`) makes each client wait for it: median "
            f"response {ms(wrong.latency(wrong.below, 'p50'))} even below capacity."
        )
    if not out:
        out.append("No implementation was measured in this run.")
    return out


def _verdict(holds: bool | None) -> str:
    return {True: "**holds**", False: "**does not hold**", None: "**not measured**"}[holds]


def tutorial_claims(results: Results) -> list[tuple[str, str, str]]:
    """``(claim, verdict, evidence)`` for each of the tutorial's claims that the lab measures."""
    delay = _delay(results)
    default = Figures.of(results, "fastapi")
    def_task = Figures.of(results, "fastapi", "def-task")
    wrong = Figures.of(results, "fastapi", "wrong-way")
    blocking = Figures.of(results, "fastapi", "async-blocking")
    claims: list[tuple[str, str, str]] = []

    # 1. The direct call blocks the response.
    wrong_p50 = wrong.latency(wrong.below, "p50")
    task_p50 = def_task.latency(def_task.below, "p50")
    holds = None
    if wrong_p50 is not None and task_p50 is not None:
        holds = wrong_p50 >= 0.9 * delay and task_p50 < 0.5 * delay
    zero_work = ""
    if wrong.ratio is not None and def_task.ratio is not None:
        cheaper = "less" if wrong.ratio > def_task.ratio else "more"
        zero_work = (
            f" Without simulated work, though, the direct call kept {pct(wrong.ratio)} of the "
            f"baseline's throughput against {pct(def_task.ratio)} for the `def` task: a "
            f"write of a few microseconds costs {cheaper} inline than the background machinery."
        )
    claims.append(
        (
            "“Calling the background function directly … blocks the response until the task "
            "finishes, defeating the purpose.”",
            _verdict(holds),
            f"With {fmt(delay)} ms of work, `/wrong-way/` answered in {ms(wrong_p50)} (median) "
            f"against {ms(task_p50)} for the `def` task, below capacity.{zero_work}",
        )
    )

    # 2. Tasks should be plain def functions, not async.
    holds = None
    if None not in (def_task.ratio, default.ratio, def_task.capacity, default.capacity):
        assert def_task.ratio is not None
        assert default.ratio is not None
        assert def_task.capacity is not None
        assert default.capacity is not None
        better_ratio = def_task.ratio >= default.ratio
        better_cap = def_task.capacity >= default.capacity
        holds = better_ratio and better_cap if better_ratio == better_cap else None
    evidence = (
        f"An `async def` task that awaits (`fastapi`'s own `/send-message/`) kept "
        f"{pct(default.ratio)} of the baseline's throughput against {pct(def_task.ratio)} "
        f"for the plain `def` task, and completed {fmt(default.capacity)} against "
        f"{fmt(def_task.capacity)} messages/s with {fmt(delay)} ms of work: the `def` task "
        "pays a hop to the thread pool per message and is capped by the pool's size. "
        "What the advice protects against is an `async def` task that *blocks*: "
        f"{fmt(blocking.capacity)} messages/s, response p99 "
        f"{ms(blocking.latency(blocking.above, 'p99'))} above capacity."
    )
    verdict = _verdict(holds)
    if holds is None and None not in (def_task.ratio, default.ratio):
        verdict = "**holds in part**"
    claims.append(
        (
            "“Background tasks should be regular functions, not async, because FastAPI runs "
            "them in a thread pool.”",
            verdict,
            evidence,
        )
    )

    # 3. Background tasks keep the API responsive.
    task_p99 = def_task.latency(def_task.below, "p99")
    blocking_p99 = blocking.latency(blocking.below, "p99")
    above_p99 = def_task.latency(def_task.above, "p99")
    answers = "still answers fast" if above_p99 is not None and above_p99 < delay else "answers"
    holds = None
    if task_p99 is not None:
        holds = task_p99 < delay
    claims.append(
        (
            "“Background tasks help keep your API responsive by offloading slow work.”",
            _verdict(holds) + (" for tasks that do not block the loop" if holds else ""),
            f"With {fmt(delay)} ms of work below capacity, the `def` task answered with p99 "
            f"{ms(task_p99)}, the `async def` task that awaits with p99 "
            f"{ms(default.latency(default.below, 'p99'))}; an `async def` task that blocks "
            f"with p99 {ms(blocking_p99)}. Above capacity the `def` task {answers} "
            f"(p99 {ms(above_p99)}) and its backlog grows "
            f"without bound: {fmt(def_task.above.get('backlog_max') if def_task.above else None)}"
            " messages at the peak, and "
            f"{ms(def_task.completion(def_task.above, 'p99'))} from request to log line (p99).",
        )
    )

    # 4. The API responds immediately: what the machinery costs.
    claims.append(
        (
            "“This lets your API respond quickly while the background task runs separately.”",
            "**holds in part**" if def_task.ratio is not None else _verdict(None),
            f"The response does come first, but the task runs in the same process on the same "
            f"CPU: the tutorial's `def` task kept {pct(def_task.ratio)} of the baseline's "
            f"throughput without any simulated work "
            f"({fmt(def_task.extra_us, 1)} µs of server CPU per request on top of the "
            "baseline's).",
        )
    )
    return claims

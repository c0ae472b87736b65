"""The report's conclusions, written from the measured figures: which approach when, and which
of the tutorial's claims hold.

Every number in these paragraphs is read from ``results.json``; where a figure
was not measured in a run, the paragraph says so instead of guessing.
"""

from __future__ import annotations

from bgref_compare import registry
from bgref_compare._results import Results
from bgref_compare.scenarios._capacity import GAP, OVER, UNDER, awaited_at_once, describe_gap

from ._figures import Figures, fmt, ms, pct
from ._verdicts import (
    Verdict,
    advice_is_better,
    direct_call_blocks,
    overload,
    responds_first,
    responsive_claim,
)

__all__ = ["approach_advice", "tutorial_claims"]


def _of_model(results: Results, model: registry.Model) -> list[Figures]:
    """The figures of every measured implementation that does its work the ``model`` way."""
    figs = [Figures.of(results, impl.id) for impl in registry.IMPLS if impl.model == model]
    return [f for f in figs if f.send or f.below]


def _lab_impl(results: Results, variant: str) -> str:
    """The implementation whose pitfall lab has ``variant`` (the runs say which)."""
    return next(
        (r["impl"] for r in results["runs"] if r["variant"] == variant),
        next((i.id for i in registry.IMPLS if any(v.name == variant for v in i.variants)), ""),
    )


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
    at_once = awaited_at_once(fig.impl)
    if at_once > 1:
        return (
            f"{steps}: each worker process awaits up to {at_once:,} messages at once, so one "
            "already completes what the servers' CPU allows, and more processes share that "
            "CPU (section 4)"
        )
    (w0, c0), (w1, c1) = points[0], points[-1]
    linear = c0 * w1 / w0 if c0 else None
    eff = f" ({pct(c1 / linear)} of linear from {w0})" if linear else ""
    return f"{steps}{eff}"


# What each outcome of the overload rule means, in the advice's words.
_OVERLOAD_WORDS: dict[str | None, str] = {
    "refuses": "it refused the excess with an error answer",
    "queues": "it took everything in, refused nothing and queued the excess",
    "slows": (
        "it refused nothing but took in less than was offered: the excess waited in the "
        "client, unanswered, because the server could not keep up"
    ),
    None: "not measured",
}


def _overload_text(*figs: Figures) -> str:
    """What the overload rule found for ``figs``, one clause per outcome, with its figures."""
    bases: dict[str | None, list[str]] = {}
    for fig in figs:
        verdict = overload(fig)
        bases.setdefault(verdict.outcome, []).append(verdict.basis)
    return "; ".join(
        f"{_OVERLOAD_WORDS[outcome]} ({'; '.join(found)})" for outcome, found in bases.items()
    )


def _completed(fig: Figures) -> str:
    """What one process completed, in words that keep a capacity that failed validation apart.

    The validation brackets the probe's figure (``scenarios._capacity.verdict``):
    ``too low`` when ``OVER`` of it still kept up, ``too high`` when ``UNDER`` fell behind.
    """
    measured = fig.measured_capacity
    if fig.capacity is not None:
        return f"{fmt(fig.capacity)}/s"
    if measured is None:
        return "an unmeasured rate"
    if fig.verdict == "too low":
        return f"more than {fmt(measured)}/s ({pct(OVER)} of that still kept up)"
    if fig.verdict == "too high":
        return f"less than {fmt(measured)}/s ({pct(UNDER)} of that fell behind)"
    return f"about {fmt(measured)}/s (not validated)"


def _capacity_text(fig: Figures, delay: float) -> str:
    """The capacity with the default workers, beside the theory it is measured against."""
    expected = fig.theory(delay)
    theory = (
        f" (theory: {expected.formula} = {fmt(expected.rps)}/s)" if expected is not None else ""
    )
    if fig.capacity is None and fig.measured_capacity is not None:
        return (
            f"Its capacity with {fmt(delay)} ms of work is not quoted: the probe's "
            f"{fmt(fig.measured_capacity)} messages/s failed its validation "
            f"({fig.verdict}){theory}"
        )
    checked = " (validated)" if fig.verdict == "confirmed" else ""
    gap = expected.gap(fig.capacity) if expected is not None else None
    at_once = awaited_at_once(fig.impl)
    flag = (
        f", {describe_gap(gap, fig.verdict, at_once)}"
        if gap is not None and abs(gap) > GAP
        else ""
    )
    return (
        f"With the default pool and {fmt(delay)} ms of work it completed "
        f"{fmt(fig.capacity)} messages/s{checked}{theory}{flag}"
    )


def approach_advice(results: Results) -> list[str]:
    """Paragraphs of 'which approach when', each built from this run's figures."""
    delay = _delay(results)
    out: list[str] = []
    asyncs = _of_model(results, "event-loop")
    if asyncs:
        ratios = " and ".join(f"{pct(f.ratio)} (`{f.impl}`)" for f in asyncs)
        caps = " and ".join(f"{_completed(f)} (`{f.impl}`)" for f in asyncs)
        worst = max(asyncs, key=lambda f: f.above.get("backlog_max", 0) if f.above else 0)
        overloaded = _overload_text(*asyncs)
        out.append(
            "**Short work that may die with the process (a log line, a metric, a cache "
            f"refresh): {' or '.join(f'`{f.impl}`' for f in asyncs)}, with an `async` task "
            "that awaits.** "
            f"Send-message kept {ratios} of the baseline's throughput, and with {fmt(delay)} ms "
            f"of simulated work per message one process completed {caps}, because the work "
            f"awaits instead of holding a thread. Above capacity {overloaded}. The backlog lives "
            f"in the process (peak {fmt(worst.above['peak_rss_mb'] if worst.above else None)} "
            f"MB for `{worst.impl}`), and whatever is queued when the process dies is gone."
        )
    for pool in _of_model(results, "thread-pool"):
        above = pool.above
        if above:
            pressure = f"Above capacity {_overload_text(pool)}"
        else:
            pressure = "Its behaviour above capacity was not measured in this run"
        scale = _scale_text(pool)
        out.append(
            "**Slow or blocking work with bounded memory and honest back-pressure: "
            f"`{pool.impl}` with its bounded pool.** Send-message kept {pct(pool.ratio)} of "
            f"the baseline's throughput. {_capacity_text(pool, delay)}"
            + (f"; by pool size: {scale}" if scale else "")
            + f". {pressure}; peak memory "
            f"{fmt(above['peak_rss_mb'] if above else None)} MB. Queued work is drained on a "
            "graceful stop and lost on a crash."
        )
    for queue in _of_model(results, "worker-queue"):
        scale = _scale_text(queue)
        others = [r for i, r in results["ratios"].items() if i != queue.impl and r is not None]
        if queue.ratio is not None and others and queue.ratio < min(others):
            cost = "It costs the most per request"
        else:
            cost = "It pays a broker round trip per request"
        out.append(
            "**Work that must survive a crash of the web process, or outgrow one machine: "
            f"`{queue.impl}`.** The queue is in Redis, so acknowledged work outlives the web "
            f"process (the fault scenarios check it). {cost}: send-message kept "
            f"{pct(queue.ratio)} of the baseline's throughput "
            f"({fmt(queue.send['rps'] if queue.send else None)} against "
            f"{fmt(queue.baseline['rps'] if queue.baseline else None)} requests/s), and "
            f"{fmt(queue.above['peak_rss_mb'] if queue.above else None)} MB for the web "
            "process, the workers and Redis. "
            + (
                f"By worker processes: {scale}"
                if scale and awaited_at_once(queue.impl) > 1
                else "Workers add capacity"
                + (f": {scale}" if scale else " (scale-out not measured in this run)")
            )
            + "."
        )
    blocking = Figures.of(results, _lab_impl(results, "async-blocking"), "async-blocking")
    wrong = Figures.of(results, _lab_impl(results, "wrong-way"), "wrong-way")
    if blocking.below or wrong.below:
        out.append(
            "**Never block the event loop.** An `async def` task that calls blocking code "
            f"completed {fmt(blocking.capacity)} messages/s with {fmt(delay)} ms of work (one "
            "at a time, the loop stalled meanwhile), and every other request waited: response "
            f"p99 {ms(blocking.latency(blocking.above, 'p99'))} above that rate. Calling the "
            "blocking work inside an `async def` endpoint (`/wrong-way/`, as the tutorial's "
            "“wrong way” does) blocks the loop too and makes each client wait for it: median "
            f"response {ms(wrong.latency(wrong.below, 'p50'))} even below capacity."
        )
    if not out:
        out.append("No implementation was measured in this run.")
    return out


def _words(verdict: Verdict) -> str:
    return f"**{verdict.outcome or 'not measured'}**"


def tutorial_claims(results: Results) -> list[tuple[str, str, str]]:
    """``(claim, verdict, evidence)`` for each of the tutorial's claims that the lab measures.

    Each verdict comes from a rule in ``_verdicts``; its evidence starts with the
    figures the rule used.
    """
    delay = _delay(results)
    # The tutorial is about the implementation whose lab has its advice (`def-task`).
    tutorial = _lab_impl(results, "def-task")
    default = Figures.of(results, tutorial)
    def_task = Figures.of(results, tutorial, "def-task")
    wrong = Figures.of(results, tutorial, "wrong-way")
    blocking = Figures.of(results, tutorial, "async-blocking")
    claims: list[tuple[str, str, str]] = []

    # 1. The direct call blocks the response.
    verdict = direct_call_blocks(wrong, def_task, delay)
    zero_work = ""
    if wrong.ratio is not None and def_task.ratio is not None:
        cheaper = "less" if wrong.ratio > def_task.ratio else "more"
        zero_work = (
            f" Without simulated work, though, the direct call kept {pct(wrong.ratio)} of the "
            f"baseline's throughput against {pct(def_task.ratio)} for the `def` task: a "
            f"write of a few microseconds costs {cheaper} inline than the background machinery."
        )
    inline = Figures.of(results, tutorial, "def-endpoint")
    inline_text = ""
    if inline.below is not None:
        in_def = direct_call_blocks(inline, def_task, delay)
        inline_text = (
            f" In a plain `def` endpoint, which runs in the thread pool, the direct call "
            f"{'blocks its client too' if in_def.outcome == 'holds' else 'did not block'} "
            f"({in_def.basis}) but not the loop: it completed {fmt(inline.capacity)} "
            f"messages/s against {fmt(wrong.capacity)} for `/wrong-way/`."
        )
    claims.append(
        (
            "“Calling the background function directly … blocks the response until the task "
            "finishes, defeating the purpose.”",
            _words(verdict),
            f"Decided by: {verdict.basis}. The tutorial's `/wrong-way/` is an `async def` "
            "endpoint, so its direct call blocks the event loop as well as its own client."
            f"{inline_text}{zero_work}",
        )
    )

    # 2. Tasks should be plain def functions, not async.
    verdict = advice_is_better(def_task, default)
    claims.append(
        (
            "“Background tasks should be regular functions, not async, because FastAPI runs "
            "them in a thread pool.”",
            _words(verdict),
            f"Decided by: {verdict.basis}, with {fmt(delay)} ms of work for the capacity. The "
            "`def` task pays a hop to the thread pool per message and is capped by the pool's "
            "size. What the advice protects against is an `async def` task that *blocks*: "
            f"{fmt(blocking.capacity)} messages/s, response p99 "
            f"{ms(blocking.latency(blocking.above, 'p99'))} above capacity.",
        )
    )

    # 3. Background tasks keep the API responsive.
    verdict = responsive_claim([def_task, default, blocking], delay)
    claims.append(
        (
            "“Background tasks help keep your API responsive by offloading slow work.”",
            _words(verdict),
            f"Responsive means a response p99 under the {fmt(delay)} ms of work. Decided by: "
            f"{verdict.basis}. Above capacity the `def` task's backlog reached "
            f"{fmt(def_task.above.get('backlog_max') if def_task.above else None)} messages, "
            f"{ms(def_task.completion(def_task.above, 'p99'))} from request to log line (p99).",
        )
    )

    # 4. The API responds immediately: what the machinery costs.
    verdict = responds_first(def_task, delay)
    claims.append(
        (
            "“This lets your API respond quickly while the background task runs separately.”",
            _words(verdict),
            f"Decided by: {verdict.basis}. The response does come first, but the task runs in "
            "the same process on the same CPU.",
        )
    )
    return claims

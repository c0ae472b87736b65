"""What the curves show, as rules over ``results.json``, each with the figures it used.

The knee of a load curve: the offered load at which the response p99 reaches
``KNEE_FACTOR`` times its low-load p99. The concurrency sweep's verdicts: at
how many connections the throughput reaches its peak, whether it holds there
with many more clients, and whether those clients queue fairly (a p99 near the
wait that connections ÷ throughput gives) or some wait much longer than others.
A step where the load generator used nearly all of its CPU is left out: there
the generator, not the server, may have been the limit; so is a sweep step too
short for its connections to take ``ROUNDS`` turns each (its figures are mostly
the first burst).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bgref_compare._results import Results, Run, find_runs

from ._figures import fmt, ms, pct
from ._verdicts import Verdict

__all__ = [
    "FAIR_MULTIPLE",
    "GENERATOR_LIMIT",
    "HOLDS_SHARE",
    "KNEE_FACTOR",
    "ROUNDS",
    "Knee",
    "generator_bound",
    "holds_throughput",
    "knee",
    "load_curve",
    "queueing",
    "saturation",
    "steady",
    "sweep",
    "threads_suffice",
]

# The knee: p99 this many times its value at the lowest offered load.
KNEE_FACTOR = 10.0
# A step where the generator was busy this share of the time may have been limited by it.
GENERATOR_LIMIT = 0.9
# Throughput holds at the most connections when it keeps this share of the sweep's
# peak; the sweep saturates at the fewest connections that reach this share of it.
HOLDS_SHARE = 0.9
# With N connections kept busy at X requests/s, each request waits N ÷ X on average
# (Little's law). Where every connection takes its turn, the p99 stays near that;
# above this multiple of it, some connections wait much longer than the others.
FAIR_MULTIPLE = 2.0
# A sweep step counts when each connection had this many answers on average.
ROUNDS = 2


def load_curve(results: Results, impl: str, endpoint: str) -> list[Run]:
    """The load-curve steps of ``impl`` on ``endpoint``, by offered load."""
    steps = find_runs(results, scenario="load-curve", impl=impl, endpoint=endpoint)
    return sorted(steps, key=lambda r: r.get("offered_share", 0.0))


def sweep(results: Results, impl: str) -> list[Run]:
    """The concurrency-sweep steps of ``impl``, by connections."""
    steps = find_runs(results, scenario="concurrency", impl=impl)
    return sorted(steps, key=lambda r: r.get("concurrency", 0))


def generator_bound(run: Run) -> bool:
    """Whether the generator used so much of its CPU that it may have been the limit."""
    return run.get("loadgen_cpu", 0.0) >= GENERATOR_LIMIT


def _p99(run: Run) -> float | None:
    return run["latency_ms"]["p99"]


@dataclass(frozen=True)
class Knee:
    """Where a load curve's p99 reached ``KNEE_FACTOR`` times its low-load p99.

    ``offered_rps`` and ``share`` are the first such step's (None: not reached
    within the curve); ``low_p99_ms`` is the p99 at the lowest offered load.
    """

    low_p99_ms: float | None
    offered_rps: float | None = None
    share: float | None = None
    p99_ms: float | None = None

    @property
    def reached(self) -> bool:
        """Whether the curve has a knee."""
        return self.offered_rps is not None


def knee(steps: Sequence[Run], factor: float = KNEE_FACTOR) -> Knee:
    """The knee of a load curve given as its steps in order of offered load."""
    measured = [s for s in steps if _p99(s) is not None and not generator_bound(s)]
    if not measured:
        return Knee(None)
    low = _p99(measured[0])
    assert low is not None
    for step in measured[1:]:
        p99 = _p99(step)
        if p99 is not None and p99 >= factor * low:
            return Knee(low, step.get("offered_rps"), step.get("offered_share"), p99)
    return Knee(low)


def steady(run: Run) -> bool:
    """Whether a sweep step lasted ``ROUNDS`` answers per connection: past its first burst."""
    return run["ok"] >= ROUNDS * (run.get("concurrency") or 1)


def _usable(steps: Sequence[Run]) -> list[Run]:
    return [s for s in steps if s["rps"] > 0 and steady(s) and not generator_bound(s)]


def _point(run: Run) -> str:
    return f"{fmt(run.get('concurrency'))} → {fmt(run['rps'])}/s"


def saturation(steps: Sequence[Run]) -> Verdict:
    """The fewest connections at which throughput reached ``HOLDS_SHARE`` of the sweep's peak."""
    usable = _usable(steps)
    if not usable:
        return Verdict(None, "no step measured")
    peak = max(usable, key=lambda r: r["rps"])
    first = next(r for r in usable if r["rps"] >= HOLDS_SHARE * peak["rps"])
    basis = (
        f"{', '.join(_point(r) for r in usable)}; {pct(HOLDS_SHARE)} of the peak "
        f"({fmt(peak['rps'])}/s at {fmt(peak.get('concurrency'))}) first at "
        f"{fmt(first.get('concurrency'))}"
    )
    return Verdict(str(first.get("concurrency")), basis)


def holds_throughput(steps: Sequence[Run]) -> Verdict:
    """``"holds"`` when the most connections get ``HOLDS_SHARE`` of the peak, else ``"drops"``."""
    usable = _usable(steps)
    if len(usable) < 2:
        return Verdict(None, "fewer than two steps measured")
    peak = max(usable, key=lambda r: r["rps"])
    most = usable[-1]
    share = most["rps"] / peak["rps"]
    basis = (
        f"{fmt(most['rps'])}/s at {fmt(most.get('concurrency'))} connections against the peak "
        f"{fmt(peak['rps'])}/s at {fmt(peak.get('concurrency'))} ({pct(share)})"
    )
    return Verdict("holds" if share >= HOLDS_SHARE else "drops", basis)


def queueing(steps: Sequence[Run]) -> Verdict:
    """At the most connections: ``"fair"`` when the p99 is within ``FAIR_MULTIPLE`` of N ÷ X.

    ``"unfair"`` means some connections waited much longer than their turn.
    """
    usable = [s for s in _usable(steps) if _p99(s) is not None]
    if not usable:
        return Verdict(None, "no step measured")
    most = usable[-1]
    count = most.get("concurrency") or 0
    turn_ms = count / most["rps"] * 1000
    p99 = _p99(most)
    assert p99 is not None
    multiple = p99 / turn_ms if turn_ms else None
    basis = (
        f"p99 {ms(p99)} at {fmt(count)} connections against {fmt(count)} ÷ "
        f"{fmt(most['rps'])}/s = {ms(turn_ms)} ({fmt(multiple, 1)}×)"
    )
    if multiple is None:
        return Verdict(None, basis)
    return Verdict("fair" if multiple <= FAIR_MULTIPLE else "unfair", basis)


def threads_suffice(steps: Sequence[Run], slots: int | None) -> Verdict:
    """For a server that serves ``slots`` requests at a time (request threads × processes):
    ``"suffice"`` when the throughput saturated by ``slots`` connections, ``"do not
    suffice"`` when more connections than that still added throughput. None (an event
    loop, no such bound): not applicable.
    """
    if slots is None:
        return Verdict(None, "no fixed number of request threads")
    first = saturation(steps)
    if first.outcome is None:
        return Verdict(None, first.basis)
    saturated_at = int(first.outcome)
    enough = saturated_at <= slots
    basis = (
        f"saturated at {fmt(saturated_at)} connection(s), "
        f"{'within' if enough else 'beyond'} its {fmt(slots)} request threads"
    )
    return Verdict("suffice" if enough else "do not suffice", basis)

"""The report's verdicts as explicit rules over ``results.json``, each with the figures it used.

A sentence such as "keeps the API responsive" or "no back-pressure" is printed
only when its rule, applied to this run's figures, says so; the figures that
decided it are printed beside it, so a verdict the data does not support cannot
be rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bgref_compare._results import Run

from ._figures import Figures, fmt, ms, pct

__all__ = [
    "ACCEPTED_SHARE",
    "CAPACITY_MARGIN",
    "RATIO_MARGIN",
    "Verdict",
    "advice_is_better",
    "direct_call_blocks",
    "fault_claim",
    "overload",
    "responds_first",
    "responsive",
    "responsive_claim",
]

# "Responsive" means a response p99 below the simulated work's duration: no
# client waited as long as the work takes, at the stated load.
#
# Above capacity, a server that acknowledged at least this share of the offered
# rate took everything in (and queued the excess); below it, the excess waited
# in the client, as requests not yet answered.
ACCEPTED_SHARE = 0.95


@dataclass(frozen=True)
class Verdict:
    """What a rule concluded (``None``: not measured) and the figures that decided it."""

    outcome: str | None
    basis: str


def _load_text(run: Run) -> str:
    return f"{fmt(run.get('offered_rps'))}/s offered, {run.get('load', '?')} capacity"


def responsive(fig: Figures, run: Run | None, delay_ms: float) -> Verdict:
    """``"responsive"`` when ``run``'s response p99 is under the work's ``delay_ms``."""
    p99 = fig.latency(run, "p99")
    if run is None or p99 is None:
        return Verdict(None, f"`{fig.name}`: not measured")
    ok = p99 < delay_ms
    return Verdict(
        "responsive" if ok else "not responsive",
        f"`{fig.name}` p99 {ms(p99)} {'<' if ok else '≥'} {fmt(delay_ms)} ms ({_load_text(run)})",
    )


def overload(fig: Figures) -> Verdict:
    """What the implementation did with load above its capacity.

    ``"refuses"``: it answered some requests with an error (back-pressure the
    client sees); ``"queues"``: it acknowledged (almost) everything offered and
    refused nothing, so the excess waits in its backlog; ``"slows"``: it refused
    nothing but acknowledged less than was offered, so the excess waited in the
    client, unanswered (the server's CPU or connections were the limit).
    """
    run = fig.above
    if run is None or not run.get("offered_rps"):
        return Verdict(None, f"`{fig.name}`: not measured above capacity")
    offered = float(run["offered_rps"])
    acked = run["rps"]
    backlog = f"backlog peak {fmt(run.get('backlog_max'))}"
    if run["rejected"]:
        return Verdict(
            "refuses",
            f"`{fig.name}` refused {fmt(run['rejected'])} of {fmt(run['requests'])} requests "
            f"at {fmt(offered)}/s offered; {backlog}",
        )
    taken = f"acknowledged {fmt(acked)} of {fmt(offered)}/s offered ({pct(acked / offered)})"
    if acked >= ACCEPTED_SHARE * offered:
        return Verdict("queues", f"`{fig.name}` {taken}, refused none; {backlog}")
    return Verdict(
        "slows",
        f"`{fig.name}` {taken}, refused none, response p50 "
        f"{ms(fig.latency(run, 'p50'))}; {backlog}",
    )


def direct_call_blocks(wrong: Figures, task: Figures, delay_ms: float) -> Verdict:
    """``"holds"`` when the inline call's median answer waits for the work and the task's not."""
    wrong_p50 = wrong.latency(wrong.below, "p50")
    task_p50 = task.latency(task.below, "p50")
    basis = (
        f"below capacity, `{wrong.variant}` median {ms(wrong_p50)}, `{task.variant}` median "
        f"{ms(task_p50)}, against {fmt(delay_ms)} ms of work"
    )
    if wrong_p50 is None or task_p50 is None:
        return Verdict(None, basis)
    holds = wrong_p50 >= 0.9 * delay_ms and task_p50 < 0.5 * delay_ms
    return Verdict("holds" if holds else "does not hold", basis)


# Differences smaller than these are no difference: the paired repetitions of
# one run spread by about ±0.05 around their median ratio (the reference run's
# fastapi 0.91-0.99, starlette 0.90-0.99), and a validated capacity is known to
# 10% (``_capacity``'s check offers 90% and 110% of it).
RATIO_MARGIN = 0.05
CAPACITY_MARGIN = 0.10


def advice_is_better(advised: Figures, other: Figures) -> Verdict:
    """Whether ``advised`` beats ``other`` on both the throughput ratio and slow-work capacity.

    ``"holds"`` if on both, ``"does not hold"`` if on neither, else ``"holds in
    part"``. A ratio within ``RATIO_MARGIN`` of the other, or a capacity within
    ``CAPACITY_MARGIN`` of it, does not beat it: the run cannot tell them apart.
    """
    basis = (
        f"ratio {fmt(advised.ratio, 2)} (`{advised.variant}`) against {fmt(other.ratio, 2)} "
        f"(`{other.variant}`), capacity {fmt(advised.capacity)}/s against "
        f"{fmt(other.capacity)}/s"
    )
    if None in (advised.ratio, other.ratio, advised.capacity, other.capacity):
        return Verdict(None, basis)
    wins = [
        advised.ratio > other.ratio + RATIO_MARGIN,  # type: ignore[operator]
        advised.capacity > other.capacity * (1 + CAPACITY_MARGIN),  # type: ignore[operator]
    ]
    ties = [
        abs(advised.ratio - other.ratio) <= RATIO_MARGIN,  # type: ignore[operator]
        abs(advised.capacity - other.capacity) <= other.capacity * CAPACITY_MARGIN,  # type: ignore[operator]
    ]
    if any(ties):
        basis += (
            f" (a difference within {RATIO_MARGIN:g} of ratio or {CAPACITY_MARGIN:.0%} of "
            "capacity is none)"
        )
    outcome = "holds" if all(wins) else "does not hold" if not any(wins) else "holds in part"
    return Verdict(outcome, basis)


def responsive_claim(figs: Sequence[Figures], delay_ms: float) -> Verdict:
    """ "Background tasks keep the API responsive", judged for every kind of task, at both loads.

    ``"holds"`` if every task kind is responsive at both loads; ``"holds below
    capacity only"`` if every one is below and not every one above; ``"holds in
    part"`` if only some are below; ``"does not hold"`` if none is below.
    """
    below = [responsive(f, f.below, delay_ms) for f in figs]
    above = [responsive(f, f.above, delay_ms) for f in figs]
    basis = "; ".join(v.basis for v in (*below, *above))
    if any(v.outcome is None for v in below):
        return Verdict(None, basis)
    n_below = sum(v.outcome == "responsive" for v in below)
    all_above = all(v.outcome == "responsive" for v in above)
    if n_below == len(below):
        outcome = "holds" if all_above else "holds below capacity only"
    else:
        outcome = "holds in part" if n_below else "does not hold"
    return Verdict(outcome, basis)


def responds_first(task: Figures, delay_ms: float) -> Verdict:
    """ "Respond quickly while the task runs separately": the answer comes first, at what cost.

    ``"holds"`` if the median answer does not wait for the work and send-message
    keeps at least ``ACCEPTED_SHARE`` of the baseline's throughput (the task is
    nearly free to the server); ``"holds in part"`` if only the first is true.
    """
    p50 = task.latency(task.below, "p50")
    basis = (
        f"`{task.variant}` median {ms(p50)} against {fmt(delay_ms)} ms of work below capacity; "
        f"ratio {fmt(task.ratio, 2)} without work ({fmt(task.extra_us, 1)} µs of server CPU "
        "per request on top of the baseline's)"
    )
    if p50 is None or task.ratio is None:
        return Verdict(None, basis)
    if p50 >= delay_ms:
        return Verdict("does not hold", basis)
    return Verdict("holds" if task.ratio >= ACCEPTED_SHARE else "holds in part", basis)


def fault_claim(row: Mapping[str, Any], label: str) -> tuple[str, Verdict]:
    """What a variant declares it loses to a fault, and whether the fault's row bears it out.

    ``row`` is a fault-matrix row with ``declared`` (the registry's text, or None
    for "nothing") and ``label`` the fault's name. A declared loss ``"holds"``
    when the burst lost messages and ``"does not hold"`` when it lost none (the
    fault did not catch any work pending in this run). A variant that declares
    nothing ``"holds"`` when nothing was lost or duplicated, ``"holds in part"``
    when nothing was lost but some were written twice, and ``"does not hold"``
    when some were lost.
    """
    lost, dup = row.get("lost"), row.get("duplicated")
    acked = row.get("acknowledged")
    declared = row.get("declared")
    name = f"`{row.get('variant')}`"
    basis = (
        f"{name} under {label}: lost {_n(lost)} of {_n(acked)} acknowledged, "
        f"{_n(dup)} written twice"
        + (f", {fmt(row['delay_ms'])} ms of work per message" if row.get("delay_ms") else "")
    )
    if declared:
        claim = f"{name} loses work to {label}: {declared}."
    else:
        claim = f"{name} loses nothing to {label}."
    if not isinstance(lost, int) or not isinstance(dup, int):
        return claim, Verdict(None, basis)
    if declared:
        outcome = "holds" if lost > 0 else "does not hold"
        if not lost:
            basis += "; the declared loss was not seen in this run"
    elif lost > 0:
        outcome = "does not hold"
    else:
        outcome = "holds in part" if dup > 0 else "holds"
    return claim, Verdict(outcome, basis)


def _n(value: Any) -> str:
    return fmt(value) if isinstance(value, int | float) else "–"

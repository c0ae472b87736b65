"""The report's section 2, slow work: the open loops below and above each capacity, how
every capacity was validated, and what a client that reuses its hottest connections gets.
"""

from __future__ import annotations

from typing import Any, cast

from bgref_compare._results import Results, find_runs
from bgref_compare.scenarios._capacity import (
    GAP,
    OVER,
    UNDER,
    awaited_at_once,
    declared_theory,
    describe_gap,
)

from ._figures import Figures, fmt, ms, pct
from ._markdown import _capacity_cell, _image, _lost, _name, _table

__all__: list[str] = []


def _slow_work(results: Results, charts: list[str]) -> list[str]:
    runs = find_runs(results, scenario="slow-work")
    if not runs:
        return []
    params = results["meta"].get("params", {})
    rows = []
    for run in runs:
        comp = cast(dict[str, float | None], run["completion_ms"] or {})
        lat = run["latency_ms"]
        rows.append(
            [
                _name(run),
                run.get("load", ""),
                _capacity_cell(Figures.of(results, run["impl"], run["variant"])),
                fmt(run.get("offered_rps")),
                fmt(run["rps"]),
                fmt(run.get("completed_rps")),
                fmt(run["rejected"]),
                fmt(run["failed"]),
                f"{ms(lat['p50'])} / {ms(lat['p99'])}",
                f"{ms(comp.get('p50'))} / {ms(comp.get('p99'))}",
                fmt(run.get("backlog_max")),
                fmt(run.get("drain_s"), 2),
                fmt(run["peak_rss_mb"]),
                _lost(run),
            ]
        )
    return [
        "## 2. Slow work",
        "",
        f"The writer sleeps {fmt(params.get('delay_ms'))} ms before each write (like sending an "
        "email). A saturating probe measures each implementation's capacity (messages "
        "completed per second); then an open loop offers "
        f"{pct(params.get('below'))} and {pct(params.get('above'))} of it for "
        f"{fmt(params.get('slow_seconds'), 1)} s each, over up to "
        f"{params.get('open_connections')} connections. Latencies run from each request's "
        "*intended* send time, so a request that waited for a free connection counts the wait. "
        "Completion is the time until the message's line is in the log; backlog is "
        "acknowledged messages not yet in the log; drain is how long after the offered load "
        "ended the last line arrived.",
        "",
        *_table(
            [
                "implementation",
                "load",
                "capacity /s",
                "offered /s",
                "acked /s",
                "completed /s",
                "rejected",
                "failed",
                "response p50 / p99",
                "completion p50 / p99",
                "backlog max",
                "drain s",
                "peak RSS MB",
                "lost / dup",
            ],
            rows,
        ),
        *_image("completion.png", charts),
        *_image("backlog.png", charts),
        *_image("memory.png", charts),
        *_capacities(results),
        *_hot_connections(results),
    ]


def _leg(leg: dict[str, Any], held: bool | None, word: str) -> str:
    return (
        f"{fmt(leg.get('offered_rps'))}/s offered, {fmt(leg.get('completed_rps'))}/s completed, "
        f"drain {fmt(leg.get('drain_s'), 2)} s: {word if held else 'no'}"
    )


def _capacities(results: Results) -> list[str]:
    runs = find_runs(results, scenario="capacity")
    if not runs:
        return []
    delay = float(results["meta"].get("params", {}).get("delay_ms", 50.0))
    rows = []
    gaps: list[str] = []
    for run in runs:
        check = run.get("validation", {})
        under, over = check.get("under", {}), check.get("over", {})
        expected = declared_theory(dict(run), delay)
        gap = expected.gap(run.get("capacity_rps")) if expected else None
        flag = " ⚠" if gap is not None and abs(gap) > GAP else ""
        rows.append(
            [
                _name(run),
                f"{run.get('connections', '–')} over {run.get('web_processes', 1)} process(es)",
                fmt(run.get("capacity_rps"), 1),
                f"{expected.formula} = {fmt(expected.rps)}" if expected else "–",
                f"{gap * 100:+.0f}%{flag}" if gap is not None else "–",
                _leg(under, under.get("kept_up"), "kept up"),
                _leg(over, over.get("fell_behind"), "fell behind"),
                f"**{run.get('capacity_verdict', '–')}**",
            ]
        )
        if expected is not None and gap is not None and abs(gap) > GAP:
            gaps.append(
                f"- {_name(run)}: {fmt(run.get('capacity_rps'), 1)}/s measured against "
                f"{expected.formula} = {fmt(expected.rps)}/s, "
                f"{describe_gap(gap, run.get('capacity_verdict'), awaited_at_once(run['impl']))}."
            )
    return [
        "### Every capacity, validated",
        "",
        f"Each capacity above is checked in the same run, on the same stack: an open loop at "
        f"{pct(UNDER)} of it must keep up (every line in the log within a second of the end) "
        f"and one at {pct(OVER)} must fall behind (fewer completions than offered, or a longer "
        "drain). A capacity that fails is not quoted. Where the approach declares its workers "
        "(the registry entry), theory is workers × processes ÷ work time; a measurement more "
        f"than {pct(GAP)} from it is flagged ⚠ and explained below. `balanced` spreads the "
        "requests over a set of keep-alive connections that every web process holds an equal "
        "share of; `round-robin` uses a fixed set in turn.",
        "",
        *_table(
            [
                "implementation",
                "connections",
                "capacity /s",
                "theory /s",
                "gap",
                f"at {pct(UNDER)}",
                f"at {pct(OVER)}",
                "verdict",
            ],
            rows,
        ),
        *gaps,
        *([""] if gaps else []),
    ]


# Below this share of the spread capacity, the hot client is said to leave processes idle.
_LOPSIDED = 0.8


def _hot_connections(results: Results) -> list[str]:
    runs = find_runs(results, scenario="hot-connections")
    if not runs:
        return []
    lines = ["### A client that reuses its hottest connections", ""]
    for run in runs:
        hot, spread = run.get("hot_capacity_rps"), run.get("capacity_rps")
        under = run.get("hot_under", {})
        if under.get("kept_up") and not under.get("fell_behind"):
            fate = "kept up"
        else:
            fate = (
                f"fell behind: {fmt(under.get('completed_rps'))}/s completed, the last line "
                f"{fmt(under.get('drain_s'), 2)} s after the end"
            )
        share = f" ({pct(hot / spread)} of it)" if hot is not None and spread else ""
        lopsided = hot is not None and spread is not None and hot < _LOPSIDED * spread
        verdict = (
            f"loads fewer than all of `{run['impl']}`'s {run.get('web_processes')} web processes"
            if lopsided
            else f"showed no such loss in this run against `{run['impl']}`'s "
            f"{run.get('web_processes')} web processes"
        )
        lines += [
            f"A client that reuses its hottest connections (as client pools and proxies do) "
            f"{verdict}: its "
            f"capacity was {fmt(hot, 1)} messages/s through a most-recent-first pool against "
            f"{fmt(spread, 1)}/s over connections every process holds a share of{share}, "
            "measured back to back on one stack. Offered "
            f"{fmt(under.get('offered_rps'))}/s ({pct(UNDER)} of the spread capacity) over hot "
            f"connections, it {fate}. Both are real: a server behind such a client has the "
            "first figure, one behind a balancing proxy the second. The capacities quoted "
            "elsewhere in this report are the second.",
            "",
        ]
    return lines

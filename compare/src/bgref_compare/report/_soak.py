"""The report's soak section: each implementation held below its capacity for a long run,
and whether its memory stayed flat.
"""

from __future__ import annotations

from bgref_compare._results import Results, find_runs

from ._figures import fmt, pct
from ._markdown import _cell, _impl_order, _table

__all__: list[str] = []


def _soak(results: Results) -> list[str]:
    runs = find_runs(results, scenario="soak")
    if not runs:
        return []
    params = results["meta"].get("params", {})
    rows = []
    for run in sorted(runs, key=lambda r: _impl_order(r["impl"])):
        growth = run.get("memory_growth")
        flat = run.get("memory_flat")
        rows.append(
            [
                run["impl"],
                fmt(run.get("offered_rps"), 1),
                fmt(run.get("capacity_rps"), 1),
                fmt(run.get("seconds"), 1),
                str(run["errors"]),
                _cell(run["lost"]),
                _cell(run["duplicated"]),
                fmt(run.get("rss_warm_mb"), 1),
                fmt(run.get("rss_end_mb"), 1),
                "–" if growth is None else f"{growth:+.1%}",
                "–" if flat is None else ("yes" if flat else "**no**"),
            ]
        )
    return [
        "## Soak",
        "",
        f"Each implementation at {pct(params.get('soak_load'))} of a capacity probed again "
        "with the simulated work at the start of its soak (the capacity/s column; it can "
        "differ from the slow-work section's), open loop. Memory is flat when the stack's "
        "RSS at the end is within 20% of its RSS after the warm-up.",
        "",
        *_table(
            [
                "implementation",
                "offered/s",
                "capacity/s",
                "seconds",
                "errors",
                "lost",
                "dup",
                "RSS warm MB",
                "RSS end MB",
                "growth",
                "flat",
            ],
            rows,
        ),
        "",
    ]

"""The report's section 4, scale-out: completed/s against the declared workers, with every
row far from its theory flagged and explained.
"""

from __future__ import annotations

from typing import cast

from bgref_compare._results import Results, find_runs
from bgref_compare.scenarios._capacity import GAP, awaited_at_once, declared_theory, describe_gap

from ._figures import fmt, ms, pct
from ._markdown import _image, _impl_order, _lost, _table

__all__: list[str] = []


def _scale_out(results: Results, charts: list[str]) -> list[str]:
    runs = find_runs(results, scenario="scale-out")
    if not runs:
        return []
    rows = []
    gaps: list[str] = []
    delay = float(results["meta"].get("params", {}).get("delay_ms", 50.0))
    for run in sorted(runs, key=lambda r: (_impl_order(r["impl"]), r.get("workers") or 0)):
        comp = cast(dict[str, float | None], run["completion_ms"] or {})
        expected = declared_theory(dict(run), delay)
        gap = expected.gap(run.get("completed_rps")) if expected else None
        if expected is not None and gap is not None and abs(gap) > GAP:
            gaps.append(
                f"- `{run['impl']}` with {fmt(run.get('workers'))} workers: "
                f"{fmt(run.get('completed_rps'))}/s against {expected.formula}"
                f" = {fmt(expected.rps)}/s, "
                f"{describe_gap(gap, None, awaited_at_once(run['impl']))}"
                + ("" if run.get("connections") else _UNSPREAD)
                + "."
            )
        rows.append(
            [
                f"`{run['impl']}`",
                fmt(run.get("workers")),
                fmt(run.get("completed_rps")),
                f"{expected.formula} = {fmt(expected.rps)}" if expected else "–",
                f"{gap * 100:+.0f}%" + (" ⚠" if abs(gap) > GAP else "")
                if gap is not None
                else "–",
                fmt(run["rps"]),
                fmt(run["rejected"]),
                ms(comp.get("p99")),
                fmt(run["peak_rss_mb"]),
                _lost(run),
            ]
        )
    params = results["meta"].get("params", {})
    return [
        "## 4. Scale-out",
        "",
        f"Slow work ({fmt(params.get('delay_ms'))} ms per message) with `BGREF_WORKERS` set: "
        "Celery worker processes, Flask pool threads per gunicorn worker. A closed loop keeps "
        "the workers saturated while capping the backlog of acknowledged, unwritten messages "
        "(so that it drains in seconds and every message is still checked); completed/s is "
        "counted after a warm-up. Theory is the declared workers × processes (× the messages "
        "one worker awaits at once, where it awaits its work) ÷ work time; a "
        f"row more than {pct(GAP)} from it is flagged ⚠ and explained below the table.",
        "",
        *_image("scaleout.png", charts),
        *_table(
            [
                "implementation",
                "workers",
                "completed /s",
                "theory /s",
                "gap",
                "acked /s",
                "rejected",
                "completion p99",
                "peak RSS MB",
                "lost / dup",
            ],
            rows,
        ),
        *gaps,
        *([""] if gaps else []),
    ]


# Results older than schema 2 were measured over the generator's hot connections.
_UNSPREAD = (
    "; measured before the harness spread its connections over the server's processes, "
    "so a multi-process server may have worked with one of them"
)

"""The markdown every section of the report is built from: tables, images and cells.

Shared by the section modules (``_overview``, ``_throughput``, ``_slowwork`` and the
rest), so that a table, a run's name or a capacity reads the same in every section.
"""

from __future__ import annotations

from typing import Any

from bgref_compare import registry
from bgref_compare._results import Run

from ._charts import CHARTS
from ._figures import Figures, fmt

__all__: list[str] = []


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["_Nothing measured._", ""]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _image(name: str, charts: list[str]) -> list[str]:
    if name not in charts:
        return []
    return [f"![{CHARTS[name]}]({name})", ""]


def _name(run: Run) -> str:
    return run["impl"] if run["variant"] == "default" else f"{run['impl']} · {run['variant']}"


def _lost(run: Run) -> str:
    return f"{fmt(run['lost'])} / {fmt(run['duplicated'])}"


def _capacity_cell(fig: Figures, *, short: bool = False) -> str:
    """A capacity with how far it was checked; ``short`` for the pitfall lab's dense tables."""
    measured = fig.measured_capacity
    if measured is None:
        return "–"
    if fig.verdict is None:
        return f"{fmt(measured)} ({'probed' if short else 'not validated'})"
    if fig.verdict == "confirmed":
        return f"{fmt(measured)} ✔"
    failed = ":" if short else " failed validation:"
    return f"not quoted ({fmt(measured)}{failed} {fig.verdict})"


def _count(n: int | None, noun: str) -> str:
    return f"{fmt(n)} {noun}" + ("" if n == 1 else "s")


def _impl_order(impl: str) -> int:
    return registry.order(impl)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "–"
    if isinstance(value, float):
        return fmt(value, 2)
    return "–" if value is None else str(value)

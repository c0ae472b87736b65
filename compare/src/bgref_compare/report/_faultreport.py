"""The report's fault section: the fault matrix (``scenarios._faultmatrix`` draws it), its
rows as a table, and the pitfall lab's fault lines below them.
"""

from __future__ import annotations

from typing import Any, cast

from bgref_compare._results import Results
from bgref_compare.scenarios._faultmatrix import matrix_lines, rows_of

from ._lab import lab_fault_lines
from ._markdown import _cell, _table

__all__: list[str] = []


def _faults(results: Results) -> list[str]:
    rows = rows_of(results.get("faults") or [])
    if not rows:
        return []
    keys = [
        "impl",
        # Schema 4: the variant whose route the burst went to.
        *(["variant"] if any("variant" in row for row in rows) else []),
        "fault",
        "acknowledged",
        "written",
        "lost",
        "duplicated",
        "errors",
        "slowest_ms",
        "exited",
    ]
    table = [[_cell(cast(dict[str, Any], row).get(k)) for k in keys] for row in rows]
    return [
        "## Faults",
        "",
        "The fault matrix: a burst of messages with 20 ms of simulated work each, and one "
        "fault mid-burst (see `docs/failure-semantics.md` for what each fault does and why "
        "each approach loses what it loses). A fault that does not apply to an approach is n/a.",
        "",
        *matrix_lines(rows),
        "",
        *_table(keys, table),
        "",
        *lab_fault_lines(results),
    ]

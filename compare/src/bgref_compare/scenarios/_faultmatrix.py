"""The fault matrix: one row per implementation and fault, and its markdown forms."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict, cast

from bgref_compare import registry
from bgref_compare._format import short_ms
from bgref_compare.loadgen._accounting import account

__all__ = [
    "DOCS_END",
    "DOCS_START",
    "FAULTS",
    "FaultRow",
    "fault_row",
    "matrix_lines",
    "replace_marked",
    "rows_of",
]

# Every fault, in the order of the issue, with the label the matrix shows.
FAULTS: dict[str, str] = {
    "graceful-stop": "web SIGTERM",
    "web-crash": "web SIGKILL",
    "worker-stop": "worker SIGTERM",
    "worker-crash": "worker SIGKILL",
    "pool-child-crash": "pool child SIGKILL",
    "broker-down": "broker killed",
    "broker-frozen": "broker frozen",
    "unwritable-log": "unwritable log",
    "unwritable-log-long": "unwritable log, past the retry bound",
    "recycling": "worker recycling",
    # The pitfall lab's: a burst to a variant that loses work by itself.
    "gc": "garbage collection",
    "task-error": "a task before the write raises",
}

DOCS_START = "<!-- fault-matrix:start -->"
DOCS_END = "<!-- fault-matrix:end -->"


class _FaultRowRequired(TypedDict):
    impl: str
    fault: str
    # Answered 200.
    acknowledged: int
    # Distinct messages of the burst in the log (whatever their answer).
    written: int
    # Acknowledged but never written.
    lost: int
    # Written more than once.
    duplicated: int
    # Not acknowledged: an error answer (a 503, say) or no answer at all.
    errors: int
    # The slowest answer any request got, in milliseconds.
    slowest_ms: float | None


class FaultRow(_FaultRowRequired, total=False):
    """What one fault did to one implementation's burst of messages."""

    # Processes found dead once the stack settled, which the fault did not mean to stop.
    exited: list[str]
    # Whether the harness started them again, as a supervisor would, before counting.
    restarted: bool
    # During a broker fault: the slowest answer of /baseline/ or /healthz, which never
    # touch the broker, asked every 20 ms while the fault lasted (milliseconds).
    bystander_ms: float | None
    # Schema 4: the pitfall-lab variant whose route the burst went to ("default": the
    # implementation's own); for a variant, its work per message and what the
    # registry declares it loses to this fault (None: nothing).
    variant: str
    delay_ms: float
    declared: str | None


def fault_row(
    impl: str,
    fault: str,
    statuses: Sequence[int],
    elapsed_ms: Sequence[float | None],
    counts: Counter[int],
) -> FaultRow:
    """Account a burst (request ``i`` is message number ``i``) against the log's ``counts``."""
    acc = account(range(len(statuses)), statuses, writes=True, counts=counts)
    answered = [
        ms
        for ms, status in zip(elapsed_ms, statuses, strict=True)
        if status != 0 and ms is not None and not math.isnan(ms)
    ]
    return {
        "impl": impl,
        "fault": fault,
        "acknowledged": acc.ok,
        "written": sum(1 for seq in range(len(statuses)) if counts.get(seq, 0) > 0),
        "lost": acc.lost,
        "duplicated": acc.duplicated,
        "errors": acc.errors,
        "slowest_ms": round(max(answered), 1) if answered else None,
    }


def _order(values: Iterable[str], known: Sequence[str]) -> list[str]:
    seen = list(dict.fromkeys(values))
    return sorted(seen, key=lambda v: (known.index(v) if v in known else len(known), v))


def _num(value: Any) -> str:
    return "–" if value is None else str(value)


def _cell(row: FaultRow | None) -> str:
    if row is None:
        return "n/a"
    # Read leniently: a results.json of an older harness may lack a figure.
    data = cast(dict[str, Any], row)
    slowest = data.get("slowest_ms")
    lost = data.get("lost")
    acked = data.get("acknowledged")
    kept = acked - lost if isinstance(acked, int) and isinstance(lost, int) else None
    lost_text = f"**lost {lost}**" if lost else f"lost {_num(lost)}"
    # Written, but not acknowledged: the request got no answer or an error, so its
    # client cannot know the message was kept. Never counted among the written.
    written = data.get("written")
    doubt = written - kept if isinstance(written, int) and kept is not None else 0
    doubt_text = f", **+{doubt} in doubt**" if doubt > 0 else ""
    return (
        f"{_num(kept)}/{_num(acked)} written{doubt_text}, {lost_text}, "
        f"dup {_num(data.get('duplicated'))}, err {_num(data.get('errors'))}, slowest "
        + short_ms(slowest)
        + (
            f"; baseline/healthz {short_ms(data['bystander_ms'])}"
            if "bystander_ms" in data
            else ""
        )
        + "".join(f", **{name} exited**" for name in data.get("exited") or [])
        + (" (restarted)" if data.get("restarted") else "")
    )


# Only where a row has the figure: results of an older harness do not.
_BYSTANDER_LEGEND = (
    " During a broker fault, `baseline/healthz` is the slowest answer of `/baseline/` or "
    "`/healthz` (which never touch the broker), asked every 20 ms while the fault lasted."
)


def matrix_lines(rows: Sequence[FaultRow]) -> list[str]:
    """Markdown: faults down, implementations across; "n/a" where a fault does not apply."""
    # The implementations' own rows: a variant's are set beside them elsewhere (_labfaults).
    rows = [r for r in rows if r.get("variant", "default") == "default"]
    if not rows:
        return []
    impls = _order((r["impl"] for r in rows), registry.IMPL_IDS)
    faults = _order((r["fault"] for r in rows), list(FAULTS))
    by_key = {(r["impl"], r["fault"]): r for r in rows}
    lines = [
        "| fault | " + " | ".join(impls) + " |",
        "|---|" + "---|" * len(impls),
    ]
    for fault in faults:
        cells = [_cell(by_key.get((impl, fault))) for impl in impls]
        lines.append(f"| {FAULTS.get(fault, fault)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Each cell: acknowledged messages that were written (of those acknowledged); "
        "**in doubt**: messages written although their request was not acknowledged (no "
        "answer or an error), so their client cannot tell; acknowledged but lost, written more "
        "than once, requests not acknowledged (an error answer or none), and the slowest "
        "answer. Requests refused after the fault (the server gone) count as errors."
        + (_BYSTANDER_LEGEND if any("bystander_ms" in row for row in rows) else ""),
    ]
    return lines


def replace_marked(text: str, lines: Sequence[str]) -> str:
    """``text`` with everything between the fault-matrix markers replaced by ``lines``."""
    start = text.find(DOCS_START)
    end = text.find(DOCS_END)
    if start < 0 or end < start:
        raise ValueError(f"no {DOCS_START} ... {DOCS_END} section")
    head = text[: start + len(DOCS_START)]
    return head + "\n" + "\n".join(lines) + "\n" + text[end:]


def rows_of(data: Iterable[dict[str, Any]]) -> list[FaultRow]:
    """The fault rows of a ``results.json`` (read back as plain dicts)."""
    return [cast(FaultRow, row) for row in data if "impl" in row and "fault" in row]

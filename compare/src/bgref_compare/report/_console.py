"""What the comparison prints: a progress bar while it runs and a summary table at the end.

Both use rich when it is installed (the ``report`` extra) and plain lines otherwise.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from bgref_compare._format import duration, fmt
from bgref_compare._results import Results, find_runs

__all__ = [
    "ProgressBar",
    "closing_lines",
    "duration",
    "print_summary",
    "progress_bar",
    "time_left",
]


class ProgressBar(Protocol):
    """Advance by estimated seconds; say what runs now."""

    def step(self, label: str) -> None:
        """Show that ``label`` starts now."""

    def advance(self, seconds: float) -> None:
        """Count ``seconds`` of the estimate as done."""

    def note(self, text: str) -> None:
        """Print a line above the bar."""


def time_left(estimated_total: float, estimated_done: float, elapsed: float) -> float:
    """Seconds left: the estimate still to run, scaled by how the estimate has fared so far.

    A busy machine runs every step slower than the profile's parameters say; once
    a tenth of the estimate is done, the pace so far corrects the rest.
    """
    rest = max(0.0, estimated_total - estimated_done)
    if estimated_done < 0.1 * estimated_total or elapsed <= 0:
        return rest
    return rest * elapsed / estimated_done


class _PlainBar:
    def __init__(self, total: float) -> None:
        self._total = max(total, 1e-9)
        self._done = 0.0
        self._start = time.monotonic()

    def step(self, label: str) -> None:
        pct = min(100.0, 100 * self._done / self._total)
        elapsed = time.monotonic() - self._start
        left = duration(time_left(self._total, self._done, elapsed))
        print(
            f"[{pct:5.1f}% {elapsed:6.1f}s, about {left} left] {label}",
            file=sys.stderr,
            flush=True,
        )

    def advance(self, seconds: float) -> None:
        self._done += seconds

    def note(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)


class _RichBar:
    def __init__(self, progress: Any, task: Any) -> None:
        self._progress = progress
        self._task = task

    def step(self, label: str) -> None:
        self._progress.update(self._task, description=label)

    def advance(self, seconds: float) -> None:
        self._progress.advance(self._task, seconds)

    def note(self, text: str) -> None:
        self._progress.console.print(text)


@contextmanager
def progress_bar(total_seconds: float, *, plain: bool = False) -> Iterator[ProgressBar]:
    """A progress bar over an estimated total duration (rich if available and wanted)."""
    try:
        if plain:
            raise ImportError
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
    except ImportError:
        yield _PlainBar(total_seconds)
        return
    console = Console(stderr=True)
    # TimeRemainingColumn starts from the estimate's pace (estimated seconds are the
    # task's units) and corrects itself from the real one as the steps finish.
    columns = (
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, refresh_per_second=4) as progress:
        task = progress.add_task("starting", total=total_seconds)
        yield _RichBar(progress, task)
        progress.update(task, completed=total_seconds, description="done")


def summary_rows(results: Results) -> list[list[str]]:
    """One row per implementation and variant: the figures that matter most."""
    rows: list[list[str]] = []
    for run in find_runs(results, scenario="throughput", endpoint="send-message"):
        impl, variant = run["impl"], run["variant"]
        base = find_runs(results, scenario="throughput", endpoint="baseline", impl=impl)
        slow = {
            r.get("load"): r
            for r in find_runs(results, scenario="slow-work", impl=impl, variant=variant)
        }
        below = slow.get("below")
        above = slow.get("above")
        lost = sum(
            r["lost"] or 0
            for r in find_runs(results, impl=impl, variant=variant)
            if r["lost"] is not None
        )
        dup = sum(
            r["duplicated"] or 0
            for r in find_runs(results, impl=impl, variant=variant)
            if r["duplicated"] is not None
        )
        rows.append(
            [
                impl if variant == "default" else f"{impl} · {variant}",
                fmt(run.get("ratio"), 2),
                fmt(run["rps"]),
                fmt(base[0]["rps"] if base else None),
                fmt(run["latency_ms"]["p99"], 1),
                fmt(below.get("capacity_rps") if below else None),
                fmt(below["completion_ms"]["p99"] if below and below["completion_ms"] else None),
                fmt(above["peak_rss_mb"] if above else None),
                f"{lost}/{dup}",
            ]
        )
    return rows


SUMMARY_HEADERS = [
    "implementation",
    "ratio",
    "send/s",
    "base/s",
    "p99 ms",
    "cap/s",
    "done p99",
    "RSS MB",
    "lost/dup",
]
SUMMARY_NOTE = (
    "ratio: send-message rps / baseline rps; p99: response latency at full throughput; "
    "cap/s: messages completed per second with the simulated work; done p99: completion "
    "latency (ms) below that capacity; RSS: peak above it; lost/dup: over every run."
)


def print_summary(results: Results, *, plain: bool = False) -> None:
    """Print the summary table (rich if available)."""
    rows = summary_rows(results)
    try:
        if plain:
            raise ImportError
        from rich import box
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(SUMMARY_HEADERS)]
        print("  ".join(h.ljust(w) for h, w in zip(SUMMARY_HEADERS, widths, strict=True)))
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        print(SUMMARY_NOTE)
        return
    table = Table(
        title="send-message: what each approach costs", box=box.SIMPLE, caption=SUMMARY_NOTE
    )
    for i, header in enumerate(SUMMARY_HEADERS):
        table.add_column(header, justify="left" if i == 0 else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)  # a log file or a pipe: no reason to squeeze
    console.print(table)


def closing_lines(results: Results, report: Path) -> list[str]:
    """The summary's last lines: where the report is, and the three figures to read first."""
    ratios = ", ".join(
        f"{impl} {value:.2f}" for impl, value in results["ratios"].items() if value is not None
    )
    capacities = []
    for run in find_runs(results, scenario="capacity", variant="default"):
        verdict = run.get("capacity_verdict")
        figure = f"{run.get('capacity_rps', 0):,.0f}/s" if verdict == "confirmed" else "not quoted"
        capacities.append(f"{run['impl']} {figure}")
    delay = results["meta"].get("params", {}).get("delay_ms")
    lost = sum(r["lost"] or 0 for r in results["runs"])
    dup = sum(r["duplicated"] or 0 for r in results["runs"])
    fault_lost = sum(int(row.get("lost") or 0) for row in results.get("faults", []))
    return [
        f"report: {report}",
        "read first:",
        f"  1. send-message rps / baseline rps (the cost of the background machinery): "
        f"{ratios or 'not measured'}",
        f"  2. validated capacity with {delay:g} ms of work per message: "
        + (", ".join(capacities) or "not measured")
        if isinstance(delay, (int, float))
        else "  2. validated capacity: not measured",
        f"  3. messages lost / duplicated under load: {lost} / {dup}; acknowledged messages "
        f"lost to the faults: {fault_lost} (the fault matrix says which are inherent)",
    ]

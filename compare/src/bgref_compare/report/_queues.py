"""The worker queues side by side: one table, and which queue when, from the run's figures.

A reader who has decided on a worker queue asks which one. Each queue's own
figures are spread over the report's sections; here they stand in one row per
queue: the throughput ratio, completion p99 below capacity, what one worker
completes with slow work, what one more worker costs in memory, how the
workers scale out, and what the fault matrix lost or wrote twice. Rendered
once a run measured two queues or more (a run with one renders as before).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bgref_compare import registry
from bgref_compare._results import Results
from bgref_compare.scenarios._capacity import awaited_at_once
from bgref_compare.scenarios._faultmatrix import rows_of

from ._figures import Figures, fmt, ms, pct
from ._markdown import _table

__all__ = ["QueueRow", "queue_advice", "queue_rows", "queue_section"]


@dataclass(frozen=True)
class QueueRow:
    """One queue's figures for the side-by-side table (None: not measured in this run)."""

    impl: str
    ratio: float | None
    completion_p99_ms: float | None
    per_worker_rps: float | None
    mb_per_worker: float | None
    # Completed/s at the most workers over linear from the fewest.
    scale_efficiency: float | None
    scale_text: str
    faults: int
    lost: int
    duplicated: int


def _queues(results: Results) -> list[Figures]:
    figs = [Figures.of(results, i.id) for i in registry.IMPLS if i.model == "worker-queue"]
    return [f for f in figs if f.send or f.below or f.scale]


def _per_worker(fig: Figures) -> float | None:
    # With the implementation's default workers (the slow-work runs use them).
    impl = registry.get(fig.impl)
    workers = impl.default_workers or 1
    return fig.capacity / workers if fig.capacity is not None else None


def _scale(fig: Figures) -> tuple[float | None, float | None, str]:
    """(efficiency at the most workers, memory per added worker, the steps as text)."""
    points = [
        (int(workers), float(completed), run.get("peak_rss_mb"))
        for run in fig.scale
        if (workers := run.get("workers")) and (completed := run.get("completed_rps")) is not None
    ]
    if len(points) < 2:
        return None, None, "–"
    (w0, c0, m0), (w1, c1, m1) = points[0], points[-1]
    efficiency = c1 / (c0 * w1 / w0) if c0 else None
    memory = (m1 - m0) / (w1 - w0) if m0 is not None and m1 is not None else None
    steps = ", ".join(f"{w} → {fmt(c)}" for w, c, _ in points)
    if awaited_at_once(fig.impl) > 1:
        # One process already spends the CPU: "of linear" would measure the CPU, not the workers.
        return None, memory, f"{steps} (not bound by its workers: section 4)"
    return efficiency, memory, steps


def queue_rows(results: Results) -> list[QueueRow]:
    """One row per worker queue measured in ``results``, in registry order."""
    rows = rows_of(results.get("faults") or [])
    out = []
    for fig in _queues(results):
        efficiency, memory, steps = _scale(fig)
        own = [
            r for r in rows if r["impl"] == fig.impl and r.get("variant", "default") == "default"
        ]
        out.append(
            QueueRow(
                impl=fig.impl,
                ratio=fig.ratio,
                completion_p99_ms=fig.completion(fig.below, "p99"),
                per_worker_rps=_per_worker(fig),
                mb_per_worker=memory,
                scale_efficiency=efficiency,
                scale_text=steps,
                faults=len(own),
                # A fault that failed to run has no counts.
                lost=sum(r.get("lost") or 0 for r in own),
                duplicated=sum(r.get("duplicated") or 0 for r in own),
            )
        )
    return out


def queue_section(results: Results) -> list[str]:
    """The side-by-side table of the worker queues, when the run measured two or more."""
    rows = queue_rows(results)
    if len(rows) < 2:
        return []
    delay = fmt(results["meta"].get("params", {}).get("delay_ms", 50.0))
    table = [
        [
            f"`{row.impl}`",
            fmt(row.ratio, 2),
            ms(row.completion_p99_ms),
            fmt(row.per_worker_rps),
            fmt(row.mb_per_worker),
            row.scale_text
            + (f" ({pct(row.scale_efficiency)} of linear)" if row.scale_efficiency else ""),
            f"{row.lost} / {row.duplicated} in {row.faults}" if row.faults else "–",
        ]
        for row in rows
    ]
    return [
        "## Worker queues side by side",
        "",
        "The figures of every worker queue from the sections above, one row each: the "
        "throughput ratio (section 1), completion p99 below capacity and what one worker "
        f"completes with {delay} ms of work per message (section 2, with the queue's default "
        "workers), what one more worker adds to the stack's peak memory and how the "
        "workers scale out (section 4: completed/s by workers), and the messages the fault "
        "matrix lost and wrote twice over its faults (see Faults).",
        "",
        *_table(
            [
                "queue",
                "throughput ratio",
                "completion p99, below",
                "per worker /s",
                "MB per added worker",
                "scale-out, completed/s",
                "lost / duplicated in faults",
            ],
            table,
        ),
        "",
    ]


# Figures within 5% of the best one are not told apart: one run's noise is larger.
_TIE = 0.05


def _best(
    rows: Sequence[QueueRow], value: Callable[[QueueRow], float | None], *, low: bool = False
) -> tuple[list[QueueRow], list[QueueRow]] | None:
    """The queues level with the best figure (within ``_TIE`` of it), then the others."""
    measured = [r for r in rows if value(r) is not None]
    if len(measured) < 2:
        return None
    ranked = sorted(measured, key=lambda r: value(r) or 0.0, reverse=not low)
    top = value(ranked[0]) or 0.0
    level = [r for r in ranked if abs((value(r) or 0.0) - top) <= _TIE * abs(top)]
    return level, ranked[len(level) :]


def _worker(impl: str) -> str:
    """One of what ``impl``'s workers knob counts: "worker thread", "worker process"."""
    noun = registry.get(impl).workers_noun
    return noun[:-2] if noun.endswith("sses") else noun.removesuffix("s")


def queue_advice(results: Results) -> list[str]:
    """One paragraph on which worker queue to pick for what, when the run measured two or more."""
    rows = queue_rows(results)
    if len(rows) < 2:
        return []
    parts: list[str] = []

    def add(
        what: str,
        value: Callable[[QueueRow], float | None],
        text: Callable[[QueueRow], str],
        low: bool = False,
    ) -> None:
        best = _best(rows, value, low=low)
        if best is None:
            return
        level, rest = best
        others = ", ".join(f"{text(r)} (`{r.impl}`)" for r in rest)
        against = f" against {others}" if rest else ""
        if len(level) == 1:
            parts.append(f"{what}: `{level[0].impl}`, {text(level[0])}{against}")
            return
        # A lead smaller than the noise of one run is no lead: name them together.
        names = " and ".join(f"`{r.impl}`" for r in level)
        figures = ", ".join(text(r) for r in level)
        parts.append(
            f"{what}: {names} alike ({figures}, within {_TIE:.0%} of each other){against}"
        )

    add("the most requests for the web's CPU", lambda r: r.ratio, lambda r: fmt(r.ratio, 2))
    add(
        "the shortest wait until the work is done",
        lambda r: r.completion_p99_ms,
        lambda r: f"completion p99 {ms(r.completion_p99_ms)}",
        low=True,
    )
    # A worker is what each queue's knob adds (a thread for Celery's pool, a
    # process for the others): the noun goes with every figure.
    add(
        "the most slow work per worker",
        lambda r: r.per_worker_rps,
        lambda r: f"{fmt(r.per_worker_rps)}/s a {_worker(r.impl)}",
    )
    add(
        "the least memory per added worker",
        lambda r: r.mb_per_worker,
        lambda r: f"{fmt(r.mb_per_worker)} MB a {_worker(r.impl)}",
        low=True,
    )
    faulted = [r for r in rows if r.faults]
    if len(faulted) >= 2:
        clean = [r for r in faulted if r.lost == 0]
        counts = ", ".join(f"`{r.impl}` {r.lost} lost, {r.duplicated} twice" for r in faulted)
        parts.append(
            "nothing acknowledged lost under the fault matrix: "
            + (", ".join(f"`{r.impl}`" for r in clean) if clean else "none of them")
            + f" ({counts})"
        )
    if not parts:
        return []
    return [
        "**Which worker queue.** Each figure is this run's, in the table *Worker queues side "
        "by side*; " + "; ".join(parts) + "."
    ]

"""The report's opening: the header that names the run, and the summary table.

The summary quotes a capacity only when the run validated it (``_markdown._capacity_cell``).
"""

from __future__ import annotations

from bgref_compare import registry
from bgref_compare._format import pinning
from bgref_compare._results import Results, find_runs
from bgref_compare.scenarios._capacity import OVER, UNDER

from ._figures import Figures, fmt, ms, pct, ratio_target
from ._markdown import _capacity_cell, _impl_order, _table

__all__: list[str] = []


def _header(results: Results) -> list[str]:
    meta = results["meta"]
    params = meta.get("params", {})
    versions = meta.get("versions", {})
    commit = (meta.get("git_commit") or "unknown")[:12]
    dirty = " (uncommitted changes)" if meta.get("git_dirty") else ""
    lines = [
        "# What background work after the response costs: the comparison",
        "",
        f"Profile **{params.get('name', '?')}**, {meta.get('date', '?')}, "
        f"commit `{commit}`{dirty}, "
        f"Python {meta.get('python', '?')}, {meta.get('cpu_count', '?')} CPUs "
        f"({meta.get('cpu_model') or 'unknown model'}), {fmt(meta.get('memory_gb'), 1)} GB; "
        f"{pinning(meta.get('cpus', {}))}. Took {fmt(meta.get('duration_s'))} s.",
        "",
    ]
    load = meta.get("load_average") or []
    end = meta.get("load_average_end") or []
    if load and end and max(load[0], end[0]) > 1.5:
        lines += [
            f"> **Caveat:** the machine was busy with other work (load average {load[0]} at the "
            f"start, {end[0]} at the end). Absolute figures are noisy; ratios measured "
            "within one run are the more robust.",
            "",
        ]
    shown = [*dict.fromkeys(v for impl in registry.IMPLS for v in impl.versions), "redis-server"]
    lines += [
        "Versions: " + ", ".join(f"{k} {versions[k]}" for k in shown if versions.get(k)) + ".",
        "",
    ]
    return lines


def _summary(results: Results) -> list[str]:
    rows = []
    impls = sorted({r["impl"] for r in results["runs"]}, key=_impl_order)
    for impl in impls:
        fig = Figures.of(results, impl)
        target = ratio_target(impl)
        verdict = ""
        if target is not None and fig.ratio is not None:
            verdict = " ✅" if fig.ratio >= target else " ❌"
        rows.append(
            [
                f"`{impl}`",
                f"{fmt(fig.ratio, 2)}{verdict}",
                fmt(target, 1),
                fmt(fig.send["rps"] if fig.send else None),
                fmt(fig.baseline["rps"] if fig.baseline else None),
                _capacity_cell(fig),
                ms(fig.completion(fig.below, "p99")),
                fmt(fig.above["peak_rss_mb"] if fig.above else None),
                f"{fig.lost()} / {fig.duplicated()}",
            ]
        )
    return [
        "## Summary",
        "",
        *_table(
            [
                "implementation",
                "ratio",
                "target",
                "send-message rps",
                "baseline rps",
                "slow-work capacity /s",
                "completion p99, below capacity",
                "peak RSS MB, above capacity",
                "lost / duplicated",
            ],
            rows,
        ),
        "The ratio is send-message rps / baseline rps of the same implementation in the same "
        "run (the median of the paired repetitions)"
        + (
            ", send-message's rps counting the time its log took to catch up after each "
            "slice (what the stack sustains, section 1)"
            if any("answered_rps" in run for run in find_runs(results, scenario="throughput"))
            else ""
        )
        + "; the targets are from the issue. A "
        f"capacity is quoted (✔) only when an open loop at {pct(UNDER)} of it kept up and one "
        f"at {pct(OVER)} fell behind (section 2).",
        "",
    ]

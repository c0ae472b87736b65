"""The report's charts, drawn with matplotlib from ``results.json`` alone."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bgref_compare._results import Results, Run, find_runs

__all__ = ["CHARTS", "draw_charts"]

# Chart file name -> what it shows (the report uses the description as alt text).
CHARTS: dict[str, str] = {
    "throughput.png": "Throughput: send-message against baseline, per implementation",
    "latency.png": "Response latency percentiles",
    "completion.png": "Completion latency distribution under slow work",
    "backlog.png": "Backlog over time above capacity",
    "memory.png": "Peak memory under slow work",
    "scaleout.png": "Completed messages per second against workers",
    "load-curve.png": "Response p99 against offered load, per implementation and path",
    "concurrency.png": "Throughput and response p99 against connections",
}


def _plain_numbers(axis: Any) -> None:
    """Label a log axis 1, 10, 100 instead of 10^0, 10^1, 10^2."""
    from matplotlib.ticker import FuncFormatter

    def minor(value: float, _: object) -> str:
        # Only 2 and 5 between the powers of ten, or the labels run into each other.
        if value <= 0:
            return ""
        mantissa = round(value / 10 ** math.floor(math.log10(value)), 6)
        return f"{value:g}" if mantissa in (2.0, 5.0) else ""

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(FuncFormatter(minor))


def _titled(ax: Any, title: str) -> None:
    """The title, a light grid and a small legend: how every line chart here ends."""
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def _name(run: Run) -> str:
    return run["impl"] if run["variant"] == "default" else f"{run['impl']}\n{run['variant']}"


def _label(run: Run) -> str:
    return _name(run).replace("\n", " · ")


def _throughput(results: Results, plt: Any, path: Path) -> bool:
    sends = find_runs(results, scenario="throughput", endpoint="send-message")
    if not sends:
        return False
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(sends) + 2), 4.2))
    width = 0.38
    for i, run in enumerate(sends):
        base = find_runs(results, scenario="throughput", endpoint="baseline", impl=run["impl"])
        bars = [
            (i - width / 2, run, "tab:blue"),
            (i + width / 2, base[0] if base else None, "0.6"),
        ]
        for x, r, colour in bars:
            if r is None:
                continue
            low = r["rps"] - r.get("rps_min", r["rps"])
            high = r.get("rps_max", r["rps"]) - r["rps"]
            ax.bar(x, r["rps"], width, color=colour, yerr=[[low], [high]], capsize=3)
        if run.get("ratio") is not None:
            top = max(run.get("rps_max", run["rps"]), base[0]["rps"] if base else 0)
            ax.annotate(
                f"{run['ratio']:.2f}×",
                (i, top),
                textcoords="offset points",
                xytext=(0, 4),
                ha="center",
                fontsize=9,
            )
    ax.set_xticks(range(len(sends)), [_name(r) for r in sends], fontsize=8)
    ax.set_ylabel("acknowledged requests/s (median, min–max)")
    ax.set_title("send-message (blue) against baseline (grey); label: ratio")
    ax.grid(axis="y", alpha=0.3)
    _save(plt, fig, path)
    return True


def _latency(results: Results, plt: Any, path: Path) -> bool:
    panels = [
        (
            "throughput: closed loop, no work",
            find_runs(results, scenario="throughput", endpoint="send-message"),
        ),
        ("slow work: open loop below capacity", find_runs(results, load="below")),
    ]
    panels = [(title, runs) for title, runs in panels if runs]
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.2), squeeze=False)
    for ax, (title, runs) in zip(axes[0], panels, strict=True):
        width = 0.26
        for j, (key, colour) in enumerate(
            (("p50", "tab:green"), ("p90", "tab:orange"), ("p99", "tab:red"))
        ):
            xs = [i + (j - 1) * width for i in range(len(runs))]
            ys = [r["latency_ms"][key] or 0.0 for r in runs]  # type: ignore[literal-required]
            ax.bar(xs, ys, width, color=colour, label=key)
        ax.set_yscale("log")
        _plain_numbers(ax.yaxis)
        ax.set_xticks(range(len(runs)), [_name(r) for r in runs], fontsize=8)
        ax.set_ylabel("response latency, ms (log)")
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    _save(plt, fig, path)
    return True


def _completion(results: Results, plt: Any, path: Path) -> bool:
    loads = [
        (load, find_runs(results, scenario="slow-work", load=load)) for load in ("below", "above")
    ]
    loads = [(load, runs) for load, runs in loads if any(r.get("completion_cdf") for r in runs)]
    if not loads:
        return False
    fig, axes = plt.subplots(1, len(loads), figsize=(6.5 * len(loads), 4.2), squeeze=False)
    for ax, (load, runs) in zip(axes[0], loads, strict=True):
        for run in runs:
            cdf = run.get("completion_cdf") or []
            if cdf:
                ax.plot([ms for _, ms in cdf], [q for q, _ in cdf], label=_label(run))
        ax.set_xscale("log")
        _plain_numbers(ax.xaxis)
        ax.set_xlabel("completion latency, ms (log): intended send → line in the log")
        ax.set_ylabel("fraction of messages")
        _titled(ax, f"slow work, {load} capacity")
    _save(plt, fig, path)
    return True


def _backlog(results: Results, plt: Any, path: Path) -> bool:
    runs = [r for r in find_runs(results, scenario="slow-work", load="above") if r.get("backlog")]
    if not runs:
        return False
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for run in runs:
        points = run.get("backlog") or []
        ax.plot([t for t, _ in points], [n for _, n in points], label=_label(run))
    # Linear near zero, so an empty backlog shows as 0 on a log-like axis.
    ax.set_yscale("symlog", linthresh=1)
    _plain_numbers(ax.yaxis)
    ax.set_xlabel("seconds since the load started (it stops at the end of the offered load)")
    ax.set_ylabel("acknowledged, not yet in the log (log)")
    _titled(ax, "backlog under slow work above capacity")
    _save(plt, fig, path)
    return True


def _memory(results: Results, plt: Any, path: Path) -> bool:
    slow = find_runs(results, scenario="slow-work")
    # One group per implementation or variant, with whichever loads it ran at.
    pairs = list(dict.fromkeys((r["impl"], r["variant"]) for r in slow))
    if not pairs:
        return False
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(pairs) + 2), 4.2))
    width = 0.38
    names = []
    for i, (impl, variant) in enumerate(pairs):
        for load, x, colour in (
            ("below", -width / 2, "tab:cyan"),
            ("above", width / 2, "tab:purple"),
        ):
            found = find_runs(results, scenario="slow-work", load=load, impl=impl, variant=variant)
            if found:
                ax.bar(i + x, found[0]["peak_rss_mb"], width, color=colour)
        names.append(impl if variant == "default" else f"{impl}\n{variant}")
    ax.set_xticks(range(len(pairs)), names, fontsize=8)
    ax.set_ylabel("peak RSS, MB (all processes, broker included)")
    ax.set_title("memory under slow work: below (cyan) and above (purple) capacity")
    ax.grid(axis="y", alpha=0.3)
    _save(plt, fig, path)
    return True


def _scaleout(results: Results, plt: Any, path: Path) -> bool:
    runs = find_runs(results, scenario="scale-out")
    if not runs:
        return False
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for impl in sorted({r["impl"] for r in runs}):
        points = sorted(
            (
                (r.get("workers") or 0, r.get("completed_rps", 0.0))
                for r in runs
                if r["impl"] == impl
            ),
        )
        xs = [w for w, _ in points]
        line = ax.plot(xs, [c for _, c in points], marker="o", label=f"{impl}: measured")
        if points and points[0][0]:
            # Perfectly linear scaling from the smallest measured point, for reference.
            w0, c0 = points[0]
            ax.plot(
                xs,
                [c0 * w / w0 for w in xs],
                linestyle="--",
                color=line[0].get_color(),
                alpha=0.5,
                label=f"{impl}: linear from {w0}",
            )
    ax.set_xticks(sorted({r.get("workers") or 0 for r in runs}))
    ax.set_xlabel("workers (BGREF_WORKERS)")
    ax.set_ylabel("completed messages/s")
    ax.set_title("scale-out under slow work")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(plt, fig, path)
    return True


_DRAWERS: dict[str, Callable[[Results, Any, Path], bool]] = {
    "throughput.png": _throughput,
    "latency.png": _latency,
    "completion.png": _completion,
    "backlog.png": _backlog,
    "memory.png": _memory,
    "scaleout.png": _scaleout,
}


def draw_charts(results: Results, out_dir: Path) -> list[str]:
    """Draw each chart the results have data for; return their names (none without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    # The curves' charts live with the curves; they use this module's helpers.
    from ._curvecharts import CURVE_DRAWERS

    drawn = []
    for name, draw in {**_DRAWERS, **CURVE_DRAWERS}.items():
        path = out_dir / name
        if draw(results, plt, path):
            drawn.append(name)
        elif path.exists():
            path.unlink()  # a stale chart from an earlier run must not sit beside this report
    return drawn


def _save(plt: Any, fig: Any, path: Path) -> None:
    """Write the chart and free it: pyplot keeps every open figure alive."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

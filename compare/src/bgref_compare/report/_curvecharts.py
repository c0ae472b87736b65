"""The curves' charts: p99 against offered load, and throughput and p99 against connections."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bgref_compare import registry
from bgref_compare._results import Results, find_runs

from ._charts import _plain_numbers, _save, _titled
from ._curveverdicts import load_curve, sweep

__all__ = ["CURVE_DRAWERS"]

_STYLES = {"send-message": "-", "baseline": "--"}


def _impls(results: Results, scenario: str) -> list[str]:
    return sorted({r["impl"] for r in find_runs(results, scenario=scenario)}, key=registry.order)


def _load_curve(results: Results, plt: Any, path: Path) -> bool:
    impls = _impls(results, "load-curve")
    if not impls:
        return False
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, impl in enumerate(impls):
        for endpoint, style in _STYLES.items():
            steps = [s for s in load_curve(results, impl, endpoint) if s["latency_ms"]["p99"]]
            if not steps:
                continue
            ax.plot(
                [100 * s.get("offered_share", 0.0) for s in steps],
                [s["latency_ms"]["p99"] for s in steps],
                linestyle=style,
                marker="o",
                markersize=3,
                color=colours[i % len(colours)],
                label=f"{impl} · {endpoint}",
            )
    ax.set_yscale("log")
    _plain_numbers(ax.yaxis)
    ax.set_xlabel("offered load, % of the path's closed-loop throughput")
    ax.set_ylabel("response p99, ms (log), from intended send time")
    _titled(ax, "latency against offered load (open loop)")
    _save(plt, fig, path)
    return True


def _concurrency(results: Results, plt: Any, path: Path) -> bool:
    impls = _impls(results, "concurrency")
    if not impls:
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.0, 4.2))
    for impl in impls:
        steps = [s for s in sweep(results, impl) if s.get("concurrency")]
        xs = [s.get("concurrency", 0) for s in steps]
        left.plot(xs, [s["rps"] for s in steps], marker="o", label=impl)
        right.plot(xs, [s["latency_ms"]["p99"] or 0.0 for s in steps], marker="o", label=impl)
    for ax in (left, right):
        ax.set_xscale("log")
        _plain_numbers(ax.xaxis)
        ax.set_xlabel("connections (closed loop, send-message)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    left.set_ylabel("acknowledged requests/s")
    left.set_title("throughput against connections")
    right.set_yscale("log")
    _plain_numbers(right.yaxis)
    right.set_ylabel("response p99, ms (log)")
    right.set_title("p99 against connections")
    _save(plt, fig, path)
    return True


CURVE_DRAWERS: dict[str, Callable[[Results, Any, Path], bool]] = {
    "load-curve.png": _load_curve,
    "concurrency.png": _concurrency,
}

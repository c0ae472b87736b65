"""The report's section 1, throughput: every path's rps and latency, and why the ratios are
what they are (each implementation's mechanism, from its registry entry).
"""

from __future__ import annotations

from bgref_compare import registry
from bgref_compare._results import Results, Run, find_runs

from ._cpu import behind_sentence, cpu_sentence, parts_sentence
from ._figures import Figures, fmt, ms, ratio_target
from ._markdown import _count, _image, _impl_order, _lost, _name, _table

__all__: list[str] = []


def _mechanism(impl: str) -> str:
    return registry.get(impl).mechanism if impl in registry.IMPL_IDS else ""


# Since the drain counts (results with ``answered_rps``); older runs counted the slices only.
_SUSTAINED = (
    " A writing path's rps counts each slice and the drain after it: the work a "
    "worker leaves behind during a slice counts against the path that left it."
)


def _throughput(results: Results, charts: list[str]) -> list[str]:
    runs = find_runs(results, scenario="throughput")
    if not runs:
        return []
    params = results["meta"].get("params", {})
    rows = []
    for run in runs:
        spread = f"{fmt(run.get('rps_min'))}–{fmt(run.get('rps_max'))}"
        ratio_reps = run.get("ratio_reps") or []
        ratio = fmt(run.get("ratio"), 2)
        if len(ratio_reps) > 1:
            ratio += f" ({fmt(min(ratio_reps), 2)}–{fmt(max(ratio_reps), 2)})"
        lat = run["latency_ms"]
        rows.append(
            [
                _name(run),
                run.get("endpoint", ""),
                fmt(run["rps"]),
                spread,
                ratio if run.get("endpoint") == "send-message" else "",
                f"{ms(lat['p50'])} / {ms(lat['p90'])} / {ms(lat['p99'])} / {ms(lat['max'])}",
                ms(run["completion_ms"]["p99"]) if run["completion_ms"] else "",
                fmt(run.get("drain_s"), 2) if run["completion_ms"] else "",
                f"{fmt(run['errors'])}",
                _lost(run) if run.get("endpoint") == "send-message" else "",
                fmt(run.get("loadgen_cpu"), 2),
            ]
        )
    lines = [
        "## 1. Throughput",
        "",
        f"Closed loop, {params.get('concurrency')} keep-alive connections, no simulated work; "
        f"{_count(params.get('throughput_reps'), 'repetition')} within one server run after a "
        "warm-up. In each repetition every path gets "
        f"{fmt(params.get('throughput_seconds'), 1)} s in slices of about "
        f"{fmt(params.get('slice_seconds'), 2)} s, the paths taking turns in a rotating order "
        "so that a burst of other work hits them alike; after each slice on a path that "
        "writes, the log catches up (drain) before the next slice starts."
        + (_SUSTAINED if any("answered_rps" in run for run in runs) else ""),
        "",
        *_image("throughput.png", charts),
        *_table(
            [
                "implementation",
                "path",
                "rps (median)",
                "min–max",
                "ratio (min–max)",
                "latency p50 / p90 / p99 / max",
                "completion p99",
                "drain s",
                "errors",
                "lost / dup",
                "generator CPU",
            ],
            rows,
        ),
        *_image("latency.png", charts),
        "### Why the ratios are what they are",
        "",
        _why_intro(runs),
        "",
    ]
    writer = results["loadgen"].get("writer_us") or {}
    for impl in sorted({r["impl"] for r in runs}, key=_impl_order):
        fig = Figures.of(results, impl)
        if fig.send is None or fig.baseline is None:
            continue
        target = ratio_target(impl)
        met = ""
        if target is not None and fig.ratio is not None:
            met = f" (target {target}: {'met' if fig.ratio >= target else 'not met'})"
        extra = fig.extra_us
        more = "–" if extra is None else f"{fmt(abs(extra))} µs {'more' if extra >= 0 else 'less'}"
        lines.append(
            f"- **`{impl}`**: ratio {fmt(fig.ratio, 2)}{met}. A baseline request costs "
            f"{fmt(1e6 / fig.baseline['rps'] if fig.baseline['rps'] else None)} µs of server "
            f"CPU, send-message {more}. {_mechanism(impl)}"
            + behind_sentence(fig.send)
            + cpu_sentence(fig.send)
            + parts_sentence(fig.send, target)
        )
    if writer:
        lines += [
            "",
            f"For scale: the shared writer alone costs {fmt(writer.get('write'), 1)} µs per "
            f"`write()` and {fmt(writer.get('awrite'), 1)} µs per `awrite()` (no delay, "
            "measured in the harness's process, alone). Inside a busy server a system call "
            "costs several times more than that (shared/README.md), which is why the async "
            "implementations share one `os.write` among the messages of a loop iteration.",
        ]
    return [*lines, ""]


def _why_intro(runs: list[Run]) -> str:
    """How to read the per-implementation lines: 1/rps, and the kernel's CPU where measured."""
    if not any((r.get("cpu_us") or {}).get("over") == "repetitions" for r in runs):
        return (
            "The servers are pinned to one CPU and saturated, so 1/rps is the CPU time of one "
            "request: the difference between the two paths is what the background mechanism "
            "costs per message."
        )
    # Measured over the ratio's own slices: a path that leaves the CPU idle part of
    # the time (a web waiting on its broker) is told apart from one that computes.
    return (
        "The servers are pinned to one CPU, so 1/rps is the time one request holds it, and "
        "the CPU time of one request where the servers keep it busy: the difference between "
        "the two paths is what the background mechanism costs per message. Each line also "
        "gives the CPU that the kernel counted for every server process over the same slices, "
        "and how busy the servers kept their CPU: a path that kept it less busy than the "
        "baseline waited for something (its broker, its workers) rather than computed."
    )

"""The markdown report (``report.md``) and its charts, written from ``results.json`` alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from bgref_compare import registry
from bgref_compare._format import pinning
from bgref_compare._results import Results, Run, find_runs
from bgref_compare.scenarios._capacity import GAP, OVER, UNDER, declared_theory, describe_gap
from bgref_compare.scenarios._faultmatrix import matrix_lines, rows_of

from ._charts import CHARTS, draw_charts
from ._curvereport import curve_lines
from ._figures import Figures, fmt, ms, pct, ratio_target
from ._findings import approach_advice, tutorial_claims
from ._lab import lab_fault_lines, lab_section, tuning_advice

__all__ = ["render_report", "write_report"]

# The default variant is the implementation itself; the others describe
# themselves in the registry.
_DEFAULT_DESCRIPTION = "the implementation itself (`/send-message/`)"


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
        "run (the median of the paired repetitions); the targets are from the issue. A "
        f"capacity is quoted (✔) only when an open loop at {pct(UNDER)} of it kept up and one "
        f"at {pct(OVER)} fell behind (section 2).",
        "",
    ]


def _capacity_cell(fig: Figures) -> str:
    measured = fig.measured_capacity
    if measured is None:
        return "–"
    if fig.verdict is None:
        return f"{fmt(measured)} (not validated)"
    if fig.verdict == "confirmed":
        return f"{fmt(measured)} ✔"
    return f"not quoted ({fmt(measured)} failed validation: {fig.verdict})"


def _count(n: int | None, noun: str) -> str:
    return f"{fmt(n)} {noun}" + ("" if n == 1 else "s")


def _impl_order(impl: str) -> int:
    return registry.order(impl)


def _mechanism(impl: str) -> str:
    return registry.get(impl).mechanism if impl in registry.IMPL_IDS else ""


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
        "writes, the log catches up (drain) before the next slice starts.",
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
        "The servers are pinned to one CPU and saturated, so 1/rps is the CPU time of one "
        "request: the difference between the two paths is what the background mechanism costs "
        "per message.",
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


def _slow_work(results: Results, charts: list[str]) -> list[str]:
    runs = find_runs(results, scenario="slow-work")
    if not runs:
        return []
    params = results["meta"].get("params", {})
    rows = []
    for run in runs:
        comp = cast(dict[str, float | None], run["completion_ms"] or {})
        lat = run["latency_ms"]
        rows.append(
            [
                _name(run),
                run.get("load", ""),
                _capacity_cell(Figures.of(results, run["impl"], run["variant"])),
                fmt(run.get("offered_rps")),
                fmt(run["rps"]),
                fmt(run.get("completed_rps")),
                fmt(run["rejected"]),
                fmt(run["failed"]),
                f"{ms(lat['p50'])} / {ms(lat['p99'])}",
                f"{ms(comp.get('p50'))} / {ms(comp.get('p99'))}",
                fmt(run.get("backlog_max")),
                fmt(run.get("drain_s"), 2),
                fmt(run["peak_rss_mb"]),
                _lost(run),
            ]
        )
    return [
        "## 2. Slow work",
        "",
        f"The writer sleeps {fmt(params.get('delay_ms'))} ms before each write (like sending an "
        "email). A saturating probe measures each implementation's capacity (messages "
        "completed per second); then an open loop offers "
        f"{pct(params.get('below'))} and {pct(params.get('above'))} of it for "
        f"{fmt(params.get('slow_seconds'), 1)} s each, over up to "
        f"{params.get('open_connections')} connections. Latencies run from each request's "
        "*intended* send time, so a request that waited for a free connection counts the wait. "
        "Completion is the time until the message's line is in the log; backlog is "
        "acknowledged messages not yet in the log; drain is how long after the offered load "
        "ended the last line arrived.",
        "",
        *_table(
            [
                "implementation",
                "load",
                "capacity /s",
                "offered /s",
                "acked /s",
                "completed /s",
                "rejected",
                "failed",
                "response p50 / p99",
                "completion p50 / p99",
                "backlog max",
                "drain s",
                "peak RSS MB",
                "lost / dup",
            ],
            rows,
        ),
        *_image("completion.png", charts),
        *_image("backlog.png", charts),
        *_image("memory.png", charts),
        *_capacities(results),
        *_hot_connections(results),
    ]


def _leg(leg: dict[str, Any], held: bool | None, word: str) -> str:
    return (
        f"{fmt(leg.get('offered_rps'))}/s offered, {fmt(leg.get('completed_rps'))}/s completed, "
        f"drain {fmt(leg.get('drain_s'), 2)} s: {word if held else 'no'}"
    )


def _capacities(results: Results) -> list[str]:
    runs = find_runs(results, scenario="capacity")
    if not runs:
        return []
    delay = float(results["meta"].get("params", {}).get("delay_ms", 50.0))
    rows = []
    gaps: list[str] = []
    for run in runs:
        check = run.get("validation", {})
        under, over = check.get("under", {}), check.get("over", {})
        expected = declared_theory(dict(run), delay)
        gap = expected.gap(run.get("capacity_rps")) if expected else None
        flag = " ⚠" if gap is not None and abs(gap) > GAP else ""
        rows.append(
            [
                _name(run),
                f"{run.get('connections', '–')} over {run.get('web_processes', 1)} process(es)",
                fmt(run.get("capacity_rps"), 1),
                f"{expected.formula} = {fmt(expected.rps)}" if expected else "–",
                f"{gap * 100:+.0f}%{flag}" if gap is not None else "–",
                _leg(under, under.get("kept_up"), "kept up"),
                _leg(over, over.get("fell_behind"), "fell behind"),
                f"**{run.get('capacity_verdict', '–')}**",
            ]
        )
        if expected is not None and gap is not None and abs(gap) > GAP:
            gaps.append(
                f"- {_name(run)}: {fmt(run.get('capacity_rps'), 1)}/s measured against "
                f"{expected.formula} = {fmt(expected.rps)}/s, "
                f"{describe_gap(gap, run.get('capacity_verdict'))}."
            )
    return [
        "### Every capacity, validated",
        "",
        f"Each capacity above is checked in the same run, on the same stack: an open loop at "
        f"{pct(UNDER)} of it must keep up (every line in the log within a second of the end) "
        f"and one at {pct(OVER)} must fall behind (fewer completions than offered, or a longer "
        "drain). A capacity that fails is not quoted. Where the approach declares its workers "
        "(the registry entry), theory is workers × processes ÷ work time; a measurement more "
        f"than {pct(GAP)} from it is flagged ⚠ and explained below. `balanced` spreads the "
        "requests over a set of keep-alive connections that every web process holds an equal "
        "share of; `round-robin` uses a fixed set in turn.",
        "",
        *_table(
            [
                "implementation",
                "connections",
                "capacity /s",
                "theory /s",
                "gap",
                f"at {pct(UNDER)}",
                f"at {pct(OVER)}",
                "verdict",
            ],
            rows,
        ),
        *gaps,
        *([""] if gaps else []),
    ]


# Below this share of the spread capacity, the hot client is said to leave processes idle.
_LOPSIDED = 0.8


def _hot_connections(results: Results) -> list[str]:
    runs = find_runs(results, scenario="hot-connections")
    if not runs:
        return []
    lines = ["### A client that reuses its hottest connections", ""]
    for run in runs:
        hot, spread = run.get("hot_capacity_rps"), run.get("capacity_rps")
        under = run.get("hot_under", {})
        if under.get("kept_up") and not under.get("fell_behind"):
            fate = "kept up"
        else:
            fate = (
                f"fell behind: {fmt(under.get('completed_rps'))}/s completed, the last line "
                f"{fmt(under.get('drain_s'), 2)} s after the end"
            )
        share = f" ({pct(hot / spread)} of it)" if hot is not None and spread else ""
        lopsided = hot is not None and spread is not None and hot < _LOPSIDED * spread
        verdict = (
            f"loads fewer than all of `{run['impl']}`'s {run.get('web_processes')} web processes"
            if lopsided
            else f"showed no such loss in this run against `{run['impl']}`'s "
            f"{run.get('web_processes')} web processes"
        )
        lines += [
            f"A client that reuses its hottest connections (as client pools and proxies do) "
            f"{verdict}: its "
            f"capacity was {fmt(hot, 1)} messages/s through a most-recent-first pool against "
            f"{fmt(spread, 1)}/s over connections every process holds a share of{share}, "
            "measured back to back on one stack. Offered "
            f"{fmt(under.get('offered_rps'))}/s ({pct(UNDER)} of the spread capacity) over hot "
            f"connections, it {fate}. Both are real: a server behind such a client has the "
            "first figure, one behind a balancing proxy the second. The capacities quoted "
            "elsewhere in this report are the second.",
            "",
        ]
    return lines


def _describe(impl_id: str, variant: str) -> str:
    if variant == "default":
        return _DEFAULT_DESCRIPTION
    try:
        return registry.get(impl_id).variant(variant).description
    except KeyError:  # a run from an older registry
        return ""


def _pitfalls(results: Results) -> list[str]:
    lab = [r for r in results["runs"] if r["variant"] != "default"]
    if not lab:
        return []
    rows = []
    # In the order the runs were made, which is the registry's.
    owner = lab[0]["impl"]
    for variant in ("default", *dict.fromkeys(r["variant"] for r in lab)):
        fig = Figures.of(results, owner, variant)
        rows.append(
            [
                f"`{variant}`",
                _describe(owner, variant),
                fmt(fig.ratio, 2),
                fmt(fig.capacity),
                ms(fig.latency(fig.below, "p50")),
                ms(fig.latency(fig.above, "p99")),
                ms(fig.completion(fig.below, "p99")),
            ]
        )
    lines = [
        "## 3. Pitfall lab: the tutorial's claims",
        "",
        f"Variants of the `{owner}` implementation, measured in scenarios 1 and 2.",
        "",
        *_table(
            [
                "variant",
                "what it is",
                "throughput ratio",
                "slow-work capacity /s",
                "response p50, below",
                "response p99, above",
                "completion p99, below",
            ],
            rows,
        ),
    ]
    for claim, verdict, evidence in tutorial_claims(results):
        lines += [f"- {claim} {verdict}. {evidence}", ""]
    return lines


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
                f"{describe_gap(gap, None)}" + ("" if run.get("connections") else _UNSPREAD) + "."
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
        "counted after a warm-up. Theory is the declared workers × processes ÷ work time; a "
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


def _soak(results: Results) -> list[str]:
    runs = find_runs(results, scenario="soak")
    if not runs:
        return []
    params = results["meta"].get("params", {})
    rows = []
    for run in sorted(runs, key=lambda r: _impl_order(r["impl"])):
        growth = run.get("memory_growth")
        flat = run.get("memory_flat")
        rows.append(
            [
                run["impl"],
                fmt(run.get("offered_rps"), 1),
                fmt(run.get("capacity_rps"), 1),
                fmt(run.get("seconds"), 1),
                str(run["errors"]),
                _cell(run["lost"]),
                _cell(run["duplicated"]),
                fmt(run.get("rss_warm_mb"), 1),
                fmt(run.get("rss_end_mb"), 1),
                "–" if growth is None else f"{growth:+.1%}",
                "–" if flat is None else ("yes" if flat else "**no**"),
            ]
        )
    return [
        "## Soak",
        "",
        f"Each implementation at {pct(params.get('soak_load'))} of a capacity probed again "
        "with the simulated work at the start of its soak (the capacity/s column; it can "
        "differ from the slow-work section's), open loop. Memory is flat when the stack's "
        "RSS at the end is within 20% of its RSS after the warm-up.",
        "",
        *_table(
            [
                "implementation",
                "offered/s",
                "capacity/s",
                "seconds",
                "errors",
                "lost",
                "dup",
                "RSS warm MB",
                "RSS end MB",
                "growth",
                "flat",
            ],
            rows,
        ),
        "",
    ]


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "–"
    if isinstance(value, float):
        return fmt(value, 2)
    return "–" if value is None else str(value)


def _method(results: Results) -> list[str]:
    check = results["loadgen"]
    meta = results["meta"]
    ok = check.get("ok")
    verdict = {True: "✅ enough", False: "❌ NOT enough", None: "not checked"}[ok]
    polls: list[float] = []
    for run in results["runs"]:
        p99 = run.get("tail_poll_ms", {}).get("p99")
        if p99 is not None:
            polls.append(p99)
    lines = [
        "## Method",
        "",
        "- **Load generator**: a raw-socket asyncio HTTP/1.1 client "
        f"({'uvloop' if check.get('uvloop') else 'asyncio'}), one keep-alive connection per "
        "concurrent request, in its own process pinned to its own CPU. Against a trivial "
        f"server that answers a fixed 200 it reached {fmt(check.get('capacity_rps'))} rps "
        f"using {pct(check.get('loadgen_cpu'))} of its CPU, that is "
        f"{fmt(check.get('cpu_bound_rps'))} rps per CPU-second; taking the "
        f"{check.get('capacity_basis', 'measured')} figure "
        f"({fmt(check.get('effective_capacity_rps'))} rps), that is "
        f"{fmt(check.get('headroom'), 1)}× the best implementation's "
        f"{fmt(check.get('best_impl_rps'))} rps (its fastest repetition): {verdict} headroom "
        f"(the rule is {fmt(check.get('required_headroom'), 0)}×). In the runs themselves the "
        f"generator used at most {pct(check.get('busiest_run_loadgen_cpu'))} of its CPU "
        "(`loadgen_cpu` in each run).",
        "- **Completion** is stamped by a follower of the log file in the generator's process, "
        "polling every millisecond on the clock of the send times; the real poll interval's "
        f"p99 was at most {ms(max(polls) if polls else None)} over the runs.",
        "- **Accounting**: every message carries a unique id; each request is acknowledged "
        "(200), rejected (another status) or failed (no answer); at the end the log is read "
        "back with `bgref_linelog.read_messages` and every acknowledged message must be there "
        "exactly once (`lost`, `duplicated`); a rejected or baseline message in the log would "
        "count as `unexpected`.",
        "- **Memory**: RSS summed over each implementation's process tree (its Redis "
        "included), sampled every 100 ms; PSS, which splits pages shared after a fork, is in "
        "`results.json` as `peak_pss_mb`.",
        f"- **Parameters**: `{_params(meta.get('params', {}))}`.",
        "",
    ]
    versions = meta.get("versions", {})
    lines += [
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v) + ".",
        "",
    ]
    return lines


def _params(params: dict[str, Any]) -> str:
    skip = {"impls", "scenarios"}
    # The profile's tuples come back from results.json as lists: render both alike.
    shown = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    return ", ".join(f"{k}={v}" for k, v in shown.items() if k not in skip)


def _failures(results: Results) -> list[str]:
    failures = results.get("failures") or []
    if not failures:
        return []
    lines = ["## Not measured", ""]
    for failure in failures:
        first = failure["error"].strip().splitlines()[-1] if failure["error"].strip() else ""
        lines.append(
            f"- {failure['scenario']} · `{failure['impl']}` · {failure['variant']}: {first}"
        )
    return [*lines, ""]


def render_report(results: Results, charts: list[str]) -> str:
    """The whole report as markdown."""
    lines = [
        *_header(results),
        *_summary(results),
        "## Which approach when",
        "",
    ]
    # Schema 4 sets every approach's idiomatic versions against it (the pitfall lab);
    # older results render as they always did.
    lab = results.get("schema", 0) >= 4
    for paragraph in [*approach_advice(results), *(tuning_advice(results) if lab else [])]:
        lines += [f"- {paragraph}", ""]
    lines += [
        *_throughput(results, charts),
        *_slow_work(results, charts),
        *(lab_section(results) if lab else _pitfalls(results)),
        *_scale_out(results, charts),
        *curve_lines(results, _table, lambda name: _image(name, charts)),
        *_soak(results),
        *_faults(results),
        *_failures(results),
        *_method(results),
    ]
    return "\n".join(lines).rstrip() + "\n"


def write_report(results: Results, out_dir: Path) -> Path:
    """Draw the charts and write ``report.md`` into ``out_dir``; return the report's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = draw_charts(results, out_dir)
    path = out_dir / "report.md"
    path.write_text(render_report(results, charts))
    return path

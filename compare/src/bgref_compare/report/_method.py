"""The report's closing sections: what the run could not measure, and how it measured the
rest (the load generator's headroom, completion, accounting, memory, the parameters).
"""

from __future__ import annotations

from typing import Any

from bgref_compare._results import Results

from ._figures import fmt, ms, pct

__all__: list[str] = []


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

"""The comparison: run every scenario for every implementation, then write results and report."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ._profile import SCENARIOS, Profile
from ._results import SCHEMA_VERSION, Failure, Results, Run, write_results
from .loadgen._bench import Bench, CpuPlan
from .registry import IMPLS, get, representatives
from .report._console import closing_lines, duration, print_summary, progress_bar
from .report._meta import collect_meta
from .report._published import doc_files, write_marked
from .report._report import write_report
from .scenarios._curves import plan_curve_steps
from .scenarios._faultmatrix import FaultRow
from .scenarios._faults import FaultSink, plan_fault_steps
from .scenarios._plan import plan_steps
from .scenarios._selfcheck import selfcheck
from .scenarios._soak import plan_soak_steps
from .scenarios._variantfaults import plan_variant_fault_steps

__all__ = ["SCENARIOS", "assemble", "run_comparison"]

# The load generator must reach at least this multiple of the best implementation's rps.
HEADROOM = 2.0


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _stoppable() -> Iterator[None]:
    # SIGTERM (a timeout, a CI runner) must unwind like Ctrl-C does, so that every
    # server is stopped and the work directory removed instead of left behind.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _pinned(cpu: int | None) -> Iterator[None]:
    # The orchestrator (memory sampling, progress bar) shares the generator's CPU,
    # leaving the other one to the servers alone.
    if cpu is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def ratios(runs: Sequence[Run]) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """The headline ratio of each implementation, and of each pitfall-lab variant."""
    main: dict[str, float | None] = {}
    variants: dict[str, float | None] = {}
    for run in runs:
        if run["scenario"] != "throughput" or run.get("endpoint") != "send-message":
            continue
        if run["variant"] == "default":
            main[run["impl"]] = run.get("ratio")
        else:
            variants[f"{run['impl']}/{run['variant']}"] = run.get("ratio")
    return main, variants


def loadgen_check(check: dict[str, Any], runs: Sequence[Run]) -> dict[str, Any]:
    """Compare the generator's capacity with the best rps any implementation reached.

    Against the trivial server the generator reaches whatever the slower of the
    two allows. When it did not use its whole CPU there, the server was the limit,
    and the generator's own capacity is its rate per CPU-second; both figures are
    kept, and the check uses the one that applies.
    """
    best = max(
        (r.get("rps_max", r["rps"]) for r in runs if r["scenario"] == "throughput"),
        default=None,
    )
    measured = check.get("capacity_rps")
    cpu = check.get("loadgen_cpu")
    extrapolated = check.get("cpu_bound_rps")
    capacity, basis = measured, "measured"
    if measured and extrapolated and cpu is not None and cpu < 0.9 and extrapolated > measured:
        capacity, basis = extrapolated, "per CPU-second"
    out = dict(check)
    out["best_impl_rps"] = best
    out["required_headroom"] = HEADROOM
    out["effective_capacity_rps"] = capacity
    out["capacity_basis"] = basis
    if best and capacity:
        out["headroom"] = round(capacity / best, 2)
        out["ok"] = capacity >= HEADROOM * best
    else:
        out["headroom"] = None
        out["ok"] = None
    busiest = max((r.get("loadgen_cpu", 0.0) for r in runs), default=0.0)
    out["busiest_run_loadgen_cpu"] = busiest
    return out


def assemble(
    meta: dict[str, Any],
    check: dict[str, Any],
    runs: list[Run],
    failures: list[Failure],
    faults: list[FaultRow] | None = None,
) -> Results:
    """Put the measured pieces together into the ``results.json`` structure."""
    main, variants = ratios(runs)
    return {
        "schema": SCHEMA_VERSION,
        "meta": meta,
        "loadgen": loadgen_check(check, runs),
        "runs": runs,
        "ratios": main,
        "variant_ratios": variants,
        "failures": failures,
        "faults": [dict(row) for row in faults or []],
    }


def run_comparison(
    profile: Profile,
    impl_ids: Sequence[str] | None = None,
    *,
    out_dir: Path,
    scenarios: Sequence[str] = SCENARIOS,
    keep: bool = False,
    plain: bool = False,
    docs: Path | None = None,
) -> Results:
    """Run the comparison; write ``results.json``, ``report.md`` and the charts to ``out_dir``.

    ``impl_ids`` None: the implementations the profile runs by default (``impl_count``).
    """
    if impl_ids is None:
        impl_ids = [i.id for i in representatives(IMPLS, profile.impl_count)]
    impls = [get(i) for i in impl_ids]
    cpus = CpuPlan.detect()
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bgref-compare-"))
    started = time.monotonic()
    runs: list[Run] = []
    failures: list[Failure] = []
    sink = FaultSink()
    params = profile.describe() | {"impls": list(impl_ids), "scenarios": list(scenarios)}
    meta = collect_meta(params, cpus.describe())
    try:
        with _stoppable(), _pinned(cpus.loadgen):
            bench = Bench(work, cpus)
            steps = [
                *plan_steps(bench, profile, impls, scenarios),
                # The curves read the throughput runs as they land in ``runs``.
                *plan_curve_steps(bench, profile, impls, scenarios, runs),
                *plan_soak_steps(bench, profile, impls, scenarios),
                *plan_fault_steps(bench, profile, impls, scenarios, sink),
                *plan_variant_fault_steps(bench, profile, impls, scenarios, sink),
            ]
            selfcheck_s = profile.selfcheck_seconds + 1.0
            total = selfcheck_s + sum(s.seconds for s in steps)
            print(
                f"profile {profile.name}: {len(steps)} steps for {', '.join(impl_ids)}, "
                f"about {duration(total)} (from the profile's parameters)",
                flush=True,
            )
            with progress_bar(total, plain=plain) as bar:
                bar.step("load generator · capacity check")
                check: dict[str, Any] = {}
                try:
                    check = selfcheck(bench, profile)
                except Exception as exc:
                    failures.append(_failure("loadgen", "default", "selfcheck", exc))
                    bar.note(f"[failed] load generator capacity check: {exc}")
                bar.advance(selfcheck_s)
                for step in steps:
                    bar.step(step.label)
                    try:
                        runs.extend(step.run())
                    except Exception as exc:  # one broken implementation must not stop the rest
                        failure = _failure(step.impl, step.variant, step.scenario, exc)
                        bar.note(f"[failed] {step.label}: {failure['error'][:2000]}")
                        failures.append(failure)
                    bar.advance(step.seconds)
    finally:
        if keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    meta["duration_s"] = round(time.monotonic() - started, 1)
    if hasattr(os, "getloadavg"):
        meta["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    failures.extend(sink.failures)
    for failure in sink.failures:
        print(f"[failed] fault {failure['variant']} · {failure['impl']}: {failure['error']}")
    results = assemble(meta, check, runs, failures, sink.rows)
    write_results(out_dir / "results.json", results)
    report = write_report(results, out_dir)
    if docs is not None:
        # The marked blocks of the docs (the fault matrix, each package's figures),
        # rendered from this run: for the published reference run only.
        for path in doc_files(docs):
            if write_marked(path, results):
                print(f"figures written into {path}")
    print_summary(results, plain=plain)
    _print_checks(results)
    print(f"took {duration(meta['duration_s'])} (profile {profile.name})")
    print("\n".join(closing_lines(results, report)))
    return results


def _failure(impl: str, variant: str, scenario: str, exc: BaseException) -> Failure:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {"impl": impl, "variant": variant, "scenario": scenario, "error": detail[:4000]}


def _print_checks(results: Results) -> None:
    check = results["loadgen"]
    if check.get("ok") is not None:
        verdict = "ok" if check["ok"] else "NOT ENOUGH HEADROOM"
        print(
            f"load generator: {check['capacity_rps']:,.0f} rps against a trivial server "
            f"using {check['loadgen_cpu']:.0%} of its CPU ({check['effective_capacity_rps']:,.0f} "
            f"rps {check['capacity_basis']}), {check['headroom']}x the best implementation "
            f"({check['best_impl_rps']:,.0f} rps): {verdict}; busiest run used "
            f"{check['busiest_run_loadgen_cpu']:.0%} of its CPU"
        )
    for failure in results["failures"]:
        print(f"failed: {failure['scenario']} {failure['impl']}/{failure['variant']}")
    for run in results["runs"]:
        counts = (run["lost"] or 0, run["duplicated"] or 0, run.get("unexpected") or 0)
        if any(counts):
            print(
                f"accounting: {run['impl']}/{run['variant']} {run['scenario']}: "
                f"lost {counts[0]}, duplicated {counts[1]}, unexpected {counts[2]}"
            )

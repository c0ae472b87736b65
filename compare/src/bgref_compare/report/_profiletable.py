"""The profiles as a markdown table, for compare/README.md.

``python -m bgref_compare profiles`` prints it; compare/README.md holds it as a
rendered block (``_published``), which the published-docs test keeps current.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from bgref_compare._profile import PROFILES, SCENARIOS, Profile
from bgref_compare.loadgen._bench import Bench, CpuPlan
from bgref_compare.registry import IMPLS, representatives
from bgref_compare.scenarios._curves import plan_curve_steps
from bgref_compare.scenarios._faults import FaultSink, plan_fault_steps
from bgref_compare.scenarios._plan import plan_steps
from bgref_compare.scenarios._soak import plan_soak_steps
from bgref_compare.scenarios._variantfaults import plan_variant_fault_steps

from ._console import duration

__all__ = ["estimate_seconds", "profile_table"]

# The flag that picks each profile.
_FLAGS = {"default": "(none)", "full": "`--full`", "quick": "`--quick`", "smoke": "`--smoke`"}


def estimate_seconds(profile: Profile, scenarios: tuple[str, ...]) -> float:
    """The progress bar's estimate for the implementations the profile runs by default."""
    bench = Bench(Path(tempfile.gettempdir()), CpuPlan(None, None))
    impls = representatives(IMPLS, profile.impl_count)
    steps = [
        *plan_steps(bench, profile, impls, scenarios),
        *plan_curve_steps(bench, profile, impls, scenarios, []),
        *plan_soak_steps(bench, profile, impls, scenarios),
        *plan_fault_steps(bench, profile, impls, scenarios, FaultSink()),
        *plan_variant_fault_steps(bench, profile, impls, scenarios, FaultSink()),
    ]
    return profile.selfcheck_seconds + 1.0 + sum(step.seconds for step in steps)


def _counts(values: tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values)


def _shares(values: tuple[float, ...]) -> str:
    return ", ".join(f"{v:.0%}" for v in values)


def _kinds(count: int) -> str:
    if not count:
        return "every implementation"
    return f"{count} implementation(s), one of each kind of web server first"


def _models(count: int) -> str:
    if not count:
        return "every implementation"
    return f"{count} implementation(s), one of each model first"


_ROWS: list[tuple[str, Callable[[Profile], str]]] = [
    ("flag", lambda p: _FLAGS.get(p.name, p.name)),
    ("implementations (without `--impl`)", lambda p: _models(p.impl_count)),
    (
        "throughput",
        lambda p: (
            f"{p.throughput_reps} repetition{'s' if p.throughput_reps > 1 else ''} × "
            f"{p.throughput_seconds:g} s per path "
            f"in {p.slice_seconds:g}-s slices, after {p.warmup_seconds:g} s of warm-up, "
            "each process's CPU read over every slice"
            + (
                f"; a queue's message taken apart, {p.job_cost_seconds:g} s queuing with the "
                "workers frozen"
                if p.job_cost_seconds
                else ""
            )
        ),
    ),
    ("generator check", lambda p: f"{p.selfcheck_seconds:g} s"),
    (
        "slow work",
        lambda p: (
            f"{p.delay_ms:g} ms per message; probe {p.probe_seconds:g} s; validation "
            f"{p.validate_seconds:g} s at 90% and 110%; open loops {p.slow_seconds:g} s at "
            f"{p.below:.0%} and {p.above:.0%}"
        ),
    ),
    (
        "scale-out",
        lambda p: (
            f"{p.scale_seconds:g} s per count; worker processes "
            f"{_counts(p.worker_processes)}; pool threads {_counts(p.worker_threads)}"
        ),
    ),
    (
        "load curve",
        lambda p: (
            f"{len(p.curve_shares)} open loops per path, {p.curve_seconds:g} s each, at "
            f"{_shares(p.curve_shares)} of the closed-loop throughput; " + _kinds(p.curve_count)
        ),
    ),
    (
        "concurrency",
        lambda p: (
            f"{p.sweep_seconds:g} s per count after {p.sweep_warmup_seconds:g} s of warm-up; "
            f"connections {_counts(p.sweep_connections)}; " + _kinds(p.curve_count)
        ),
    ),
    (
        "soak",
        lambda p: (
            f"{p.soak_seconds:g} s after {p.soak_warmup_seconds:g} s of warm-up, at "
            f"{p.soak_load:.0%} of capacity; " + _models(p.soak_count)
        ),
    ),
    (
        "pitfall lab",
        lambda p: (
            (
                f"the first {p.variants_per_impl} variant(s) of each implementation"
                if p.variants_per_impl
                else "every benchmarked variant"
            )
            + f"; {p.variant_share:.0%} of each throughput slice; capacity "
            + ("validated" if p.validate_variants else "probed only")
            + "; "
            + (
                "every slow-work load"
                if p.every_load
                else "the slow-work loads that show its difference"
            )
            + "; the faults that apply to it"
        ),
    ),
    (
        "faults",
        lambda p: (
            f"a burst of {p.fault_burst} at {p.fault_rate:g}/s, {p.fault_delay_ms:g} ms "
            f"per message; outage {p.fault_outage_s:g} s; settle up to {p.fault_settle_s:g} s; "
            + (", ".join(p.fault_names) if p.fault_names else "every fault that applies")
        ),
    ),
]


def profile_table(scenarios: tuple[str, ...] = SCENARIOS) -> list[str]:
    """One column per profile, one row per scenario, and the estimated length."""
    profiles = list(PROFILES.values())
    lines = [
        "| | " + " | ".join(f"`{p.name}`" for p in profiles) + " |",
        "| --- |" + " --- |" * len(profiles),
    ]
    for label, cell in _ROWS:
        lines.append(f"| {label} | " + " | ".join(cell(p) for p in profiles) + " |")
    lines.append(
        "| estimate, those implementations | "
        + " | ".join(duration(estimate_seconds(p, scenarios)) for p in profiles)
        + " |"
    )
    return lines

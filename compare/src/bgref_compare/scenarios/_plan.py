"""The plan of the main scenarios (throughput, slow work, hot connections, scale-out): their
steps for the chosen implementations, in running order.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from bgref_compare._profile import Profile
from bgref_compare.loadgen._bench import Bench
from bgref_compare.registry import Impl

from ._hotconnections import hot_connections
from ._labplan import loads_of
from ._paths import DEFAULT_VARIANT, _lab_variant, _variants
from ._scaleout import scale_out
from ._slowwork import slow_work
from ._step import Step, start_seconds
from ._throughput import throughput

__all__ = ["plan_steps"]


def plan_steps(
    bench: Bench, profile: Profile, impls: list[Impl], scenarios: Iterable[str]
) -> list[Step]:
    """Every step of the chosen scenarios for the chosen implementations, in running order."""
    wanted = set(scenarios)
    steps: list[Step] = []
    p = profile

    start = start_seconds
    if "throughput" in wanted:
        for impl in impls:
            lab = len(_variants(impl, p)) - 1
            n = 2 + lab * p.variant_share
            secs = start(impl) + p.warmup_seconds + n * p.throughput_reps * p.throughput_seconds
            if impl.broker_backlog and p.job_cost_seconds:
                # The baseline and the queuing, workers frozen; their drain.
                secs += 3 * p.job_cost_seconds
            steps.append(
                Step(
                    "throughput",
                    impl.id,
                    DEFAULT_VARIANT,
                    f"throughput · {impl.id}",
                    secs,
                    partial(throughput, bench, p, impl),
                )
            )
    if "slow-work" in wanted:
        for impl in impls:
            for variant, path in _variants(impl, p):
                measured = _lab_variant(impl, variant)
                validates = measured is None or p.validate_variants
                loads = len(loads_of(measured, p.every_load))
                secs = (
                    start(impl)
                    + p.probe_seconds
                    + (2.2 * p.validate_seconds if validates else 0.0)
                    + 1.2 * loads * p.slow_seconds
                )
                steps.append(
                    Step(
                        "slow-work",
                        impl.id,
                        variant,
                        f"slow work · {impl.id}"
                        + ("" if variant == DEFAULT_VARIANT else f" · {variant}"),
                        secs,
                        partial(slow_work, bench, p, impl, variant, path),
                    )
                )
    if "hot-connections" in wanted:
        for impl in impls:
            if impl.web_processes < 2:
                continue  # one process gets every connection, hot or not
            steps.append(
                Step(
                    "hot-connections",
                    impl.id,
                    DEFAULT_VARIANT,
                    f"hot connections · {impl.id}",
                    start(impl) + 2 * p.probe_seconds + 1.1 * p.validate_seconds,
                    partial(hot_connections, bench, p, impl),
                )
            )
    if "scale-out" in wanted:
        for impl in impls:
            if not impl.workers_env:
                continue
            for workers in p.workers_for(impl):
                steps.append(
                    Step(
                        "scale-out",
                        impl.id,
                        DEFAULT_VARIANT,
                        f"scale-out · {impl.id} · {workers} workers",
                        start(impl) + 1.3 * p.scale_seconds,
                        partial(scale_out, bench, p, impl, workers),
                    )
                )
    return steps

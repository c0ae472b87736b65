"""The soak scenario: about 80% of the measured capacity for minutes, memory checked for growth."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from bgref_compare._profile import Profile
from bgref_compare._results import Run
from bgref_compare.loadgen._bench import Bench, RunningStack, new_run_id
from bgref_compare.loadgen._loadgen import LoadSpec, Phase
from bgref_compare.registry import Impl, representatives
from bgref_compare.stack._memory import tree_memory

from ._capacity import spread_policy
from ._paths import DEFAULT_VARIANT, SEND_PATH
from ._probe import _probe
from ._record import _base_run, _with_memory
from ._step import Step, start_seconds

__all__ = ["FLAT_WITHIN", "memory_growth", "plan_soak_steps", "soak"]

# Memory is flat when the RSS at the end is within this fraction of the RSS after warm-up.
FLAT_WITHIN = 0.20
_MB = 1024 * 1024


def memory_growth(warm_mb: float, end_mb: float) -> float | None:
    """The RSS at the end relative to the RSS after warm-up (0.1 is 10% more); None if unknown."""
    if warm_mb <= 0:
        return None
    return round(end_mb / warm_mb - 1.0, 3)


def _rss_mb(running: RunningStack) -> float:
    return round(tree_memory(running.pids())[0] / _MB, 1)


def _spec(profile: Profile, phase: Phase) -> LoadSpec:
    return LoadSpec(
        "",
        0,
        new_run_id(),
        (phase,),
        timeout_s=profile.request_timeout_s,
        drain_timeout_s=profile.drain_timeout_s,
        warm_s=min(phase.seconds / 4, 1.0),
    )


def soak(bench: Bench, profile: Profile, impl: Impl) -> list[Run]:
    """Measure the capacity with slow work, then hold ``soak_load`` of it for ``soak_seconds``."""
    connections = spread_policy(impl)
    slack = profile.request_timeout_s + profile.drain_timeout_s + 60
    with bench.stack(impl, delay_ms=profile.delay_ms) as running:
        capacity, _ = _probe(bench, running, profile, SEND_PATH, connections)
        if capacity <= 0:
            raise RuntimeError(f"{impl.id}: nothing completed while probing the capacity")
        rate = max(1.0, round(capacity * profile.soak_load, 1))

        def phase(label: str, seconds: float) -> Phase:
            return Phase(
                label,
                SEND_PATH,
                seconds,
                profile.open_connections,
                rate=rate,
                writes=True,
                drain=True,
                connections=connections,
            )

        warm = phase("warmup", profile.soak_warmup_seconds)
        bench.load(running, _spec(profile, warm), timeout=warm.seconds * 3 + slack)
        warm_mb = _rss_mb(running)
        main = phase("soak", profile.soak_seconds)
        outcome = bench.load(running, _spec(profile, main), timeout=main.seconds * 2 + slack)
        end_mb = _rss_mb(running)
    run = _base_run(impl, DEFAULT_VARIANT, "soak", SEND_PATH, outcome.phases)
    growth = memory_growth(warm_mb, end_mb)
    run["delay_ms"] = profile.delay_ms
    run["offered_rps"] = rate
    run["capacity_rps"] = round(capacity, 1)
    run["rss_warm_mb"] = warm_mb
    run["rss_end_mb"] = end_mb
    run["memory_growth"] = growth
    run["memory_flat"] = None if growth is None else abs(growth) <= FLAT_WITHIN
    return [_with_memory(run, outcome)]


def plan_soak_steps(
    bench: Bench, profile: Profile, impls: Sequence[Impl], scenarios: Sequence[str]
) -> list[Step]:
    """One soak step per implementation, when ``soak`` is among ``scenarios``."""
    if "soak" not in scenarios:
        return []
    length = profile.probe_seconds + profile.soak_warmup_seconds + profile.soak_seconds
    return [
        Step(
            "soak",
            i.id,
            DEFAULT_VARIANT,
            f"soak · {i.id}",
            start_seconds(i) + length,
            partial(soak, bench, profile, i),
        )
        for i in representatives(impls, profile.soak_count)
    ]

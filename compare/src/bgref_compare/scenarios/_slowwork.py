"""Scenario 2, slow work: the capacity probed and validated, then open loops below and
above it.
"""

from __future__ import annotations

from typing import Any

from bgref_compare._profile import Profile
from bgref_compare._results import Run
from bgref_compare.loadgen._bench import Bench, RunningStack
from bgref_compare.registry import Impl

from ._capacity import OVER, UNDER, falls_behind, keeps_up, spread_policy, theory, verdict
from ._labplan import loads_of
from ._paths import DEFAULT_VARIANT, _lab_variant
from ._probe import _open_phases, _probe
from ._record import _base_run, _with_memory

__all__ = ["slow_work"]

_VALIDATION = (("under", UNDER), ("over", OVER))


def _validation_leg(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "offered_rps": result.get("offered_rps"),
        "completed_rps": result.get("completed_rps"),
        "drain_s": result.get("drain_s"),
        "drain_complete": result.get("drain_complete"),
        "errors": result.get("errors"),
    }


def slow_work(bench: Bench, profile: Profile, impl: Impl, variant: str, path: str) -> list[Run]:
    """Probe the capacity, validate it, then run open loops below and above it.

    A pitfall-lab variant may only be probed and run at the loads that show its
    difference (``_labplan``), in the shorter profiles.

    Every request goes over the connection policy that reaches all of the
    server's web processes. The validation offers UNDER and OVER times the
    measured capacity: the first must keep up, the second fall behind; a
    capacity that fails is recorded as such (``capacity_verdict``).
    """
    connections = spread_policy(impl)
    runs: list[Run] = []
    lab = _lab_variant(impl, variant)
    with bench.stack(impl, delay_ms=profile.delay_ms) as running:
        capacity, _found = _probe(bench, running, profile, path, connections)
        if capacity <= 0:
            raise RuntimeError(
                f"{impl.id}/{variant}: nothing completed while probing the capacity"
            )
        # A shorter profile only probes a variant's capacity: with no capacity run,
        # its slow-work runs carry no verdict and the report says "not validated".
        if lab is None or profile.validate_variants:
            runs.append(_validated(bench, running, profile, impl, variant, path, capacity))
        checked = runs[0].get("capacity_verdict") if runs else None
        for load, factor in (("below", profile.below), ("above", profile.above)):
            if load not in loads_of(lab, profile.every_load):
                continue
            rate = max(1.0, round(capacity * factor, 1))
            [result], outcome = _open_phases(
                bench, running, profile, path, [(load, rate)], profile.slow_seconds, connections
            )
            run = _base_run(impl, variant, "slow-work", path, [result])
            run["load"] = load
            run["delay_ms"] = profile.delay_ms
            run["offered_rps"] = rate
            run["capacity_rps"] = round(capacity, 1)
            if checked is not None:
                run["capacity_verdict"] = checked
            run["connections"] = connections
            run["backlog"] = [list(pair) for pair in result.get("backlog", [])]
            if "wait_ms" in result:
                run["wait_ms"] = result["wait_ms"]
            run["dispatch_lag_ms"] = result.get("dispatch_lag_ms", {})
            runs.append(_with_memory(run, outcome))
    return runs


def _validated(
    bench: Bench,
    running: RunningStack,
    profile: Profile,
    impl: Impl,
    variant: str,
    path: str,
    capacity: float,
) -> Run:
    """The capacity's validation run: open loops at UNDER and OVER times ``capacity``."""
    connections = spread_policy(impl)
    rates = [(label, max(1.0, round(capacity * f, 1))) for label, f in _VALIDATION]
    legs, outcome = _open_phases(
        bench, running, profile, path, rates, profile.validate_seconds, connections
    )
    check = _base_run(impl, variant, "capacity", path, legs)
    check["delay_ms"] = profile.delay_ms
    check["capacity_rps"] = round(capacity, 1)
    check["connections"] = connections
    check["web_processes"] = impl.web_processes
    under, over = legs
    kept, fell = keeps_up(under), falls_behind(over)
    check["validation"] = {
        "under": _validation_leg(under) | {"share": UNDER, "kept_up": kept},
        "over": _validation_leg(over) | {"share": OVER, "fell_behind": fell},
    }
    check["capacity_verdict"] = verdict(kept, fell)
    expected = theory(impl, profile.delay_ms) if variant == DEFAULT_VARIANT else None
    if expected is not None:
        check["theory_rps"] = expected.rps
        check["theory_formula"] = expected.formula
    return _with_memory(check, outcome)

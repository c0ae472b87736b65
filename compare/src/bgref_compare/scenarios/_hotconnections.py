"""Scenario 3, hot connections: the capacity that a client reusing its hottest connections
sees, beside the one the harness measures over connections spread across the web processes
(``_capacity``).
"""

from __future__ import annotations

from bgref_compare._profile import Profile
from bgref_compare._results import Run
from bgref_compare.loadgen._bench import Bench
from bgref_compare.registry import Impl

from ._capacity import UNDER, falls_behind, hot_policy, keeps_up, spread_policy, theory
from ._paths import DEFAULT_VARIANT, SEND_PATH
from ._probe import _open_phases, _probe
from ._record import _base_run, _with_memory
from ._slowwork import _validation_leg

__all__ = ["hot_connections"]


def hot_connections(bench: Bench, profile: Profile, impl: Impl) -> list[Run]:
    """The capacity a client that reuses its hottest connections sees, beside the spread one.

    Both probes run back to back on one stack, so the machine's state favours neither.
    """
    spread = spread_policy(impl)
    with bench.stack(impl, delay_ms=profile.delay_ms) as running:
        capacity, _ = _probe(bench, running, profile, SEND_PATH, spread)
        hot, found = _probe(bench, running, profile, SEND_PATH, hot_policy())
        [phase], outcome = _open_phases(
            bench,
            running,
            profile,
            SEND_PATH,
            [("hot-under", max(1.0, round(capacity * UNDER, 1)))],
            profile.validate_seconds,
            hot_policy(),
        )
    run = _base_run(impl, DEFAULT_VARIANT, "hot-connections", SEND_PATH, [found, phase])
    run["delay_ms"] = profile.delay_ms
    run["web_processes"] = impl.web_processes
    run["connections"] = hot_policy()
    run["capacity_rps"] = round(capacity, 1)
    run["hot_capacity_rps"] = round(hot, 1)
    # The spread capacity's validation load, sent by a hot-connection client.
    run["hot_under"] = _validation_leg(phase) | {
        "share": UNDER,
        "kept_up": keeps_up(phase),
        "fell_behind": falls_behind(phase),
    }
    expected = theory(impl, profile.delay_ms)
    if expected is not None:
        run["theory_rps"] = expected.rps
        run["theory_formula"] = expected.formula
    return [_with_memory(run, outcome)]

"""Scenario 4, scale-out: the messages a number of workers complete when kept saturated
with slow work.
"""

from __future__ import annotations

from bgref_compare._profile import Profile
from bgref_compare._results import Run
from bgref_compare.loadgen._bench import Bench, new_run_id
from bgref_compare.loadgen._loadgen import LoadSpec
from bgref_compare.registry import Impl

from ._capacity import spread_policy, theory
from ._paths import DEFAULT_VARIANT, SEND_PATH
from ._probe import _saturating
from ._record import _base_run, _with_memory

__all__ = ["scale_out"]


def scale_out(bench: Bench, profile: Profile, impl: Impl, workers: int) -> list[Run]:
    """Keep ``workers`` workers saturated with slow work; measure the messages they complete."""
    # A small floor: one Celery worker does 1000/delay messages per second and
    # must drain whatever the cap let in.
    connections = spread_policy(impl)
    phase = _saturating(
        "scale", SEND_PATH, profile.scale_seconds, profile, connections=connections, floor=24
    )
    spec = LoadSpec(
        "",
        0,
        new_run_id(),
        (phase,),
        timeout_s=profile.request_timeout_s,
        drain_timeout_s=profile.drain_timeout_s,
        warm_s=profile.scale_seconds / 3 + profile.delay_ms / 1000,
    )
    budget = profile.scale_seconds * 2 + profile.request_timeout_s + profile.drain_timeout_s
    with bench.stack(impl, delay_ms=profile.delay_ms, workers=workers) as running:
        outcome = bench.load(running, spec, timeout=budget + 60)
    result = outcome.phases[0]
    run = _base_run(impl, DEFAULT_VARIANT, "scale-out", SEND_PATH, [result])
    run["workers"] = workers
    run["delay_ms"] = profile.delay_ms
    run["max_backlog"] = result.get("backlog_cap") or 0
    run["connections"] = connections
    expected = theory(impl, profile.delay_ms, workers)
    if expected is not None:
        run["theory_rps"] = expected.rps
        run["theory_formula"] = expected.formula
    return [_with_memory(run, outcome)]

"""How the scenarios with slow work load a stack: the saturating probe that finds its
capacity, and open loops at given rates.

Slow work, hot connections, scale-out and soak all measure a capacity or offer
a load relative to one, so the probe and the open loops are shared here.
"""

from __future__ import annotations

from typing import Any

from bgref_compare._profile import Profile
from bgref_compare.loadgen._bench import Bench, LoadOutcome, RunningStack, new_run_id
from bgref_compare.loadgen._loadgen import LoadSpec, Phase

__all__: list[str] = []


def _saturating(
    label: str,
    path: str,
    seconds: float,
    profile: Profile,
    *,
    connections: str,
    floor: int = 64,
) -> Phase:
    """A closed loop that keeps the implementation's workers busy with a bounded backlog.

    The cap starts at ``floor`` messages and follows the completion rate (four
    work times' worth of it), so that it grows about fourfold every quarter
    second until the implementation, not the cap, is the limit.
    """
    return Phase(
        label,
        path,
        seconds,
        profile.concurrency,
        writes=True,
        drain=True,
        max_backlog=floor,
        backlog_seconds=4 * profile.delay_ms / 1000,
        connections=connections,
    )


def _probe(
    bench: Bench, running: RunningStack, profile: Profile, path: str, connections: str
) -> tuple[float, dict[str, Any]]:
    """The capacity a saturating probe finds (completed messages per second), and its phase."""
    delay_s = profile.delay_ms / 1000
    probe = _saturating("probe", path, profile.probe_seconds, profile, connections=connections)
    spec = LoadSpec(
        "",
        0,
        new_run_id(),
        (probe,),
        timeout_s=profile.request_timeout_s,
        drain_timeout_s=profile.drain_timeout_s,
        warm_s=profile.probe_seconds / 3 + delay_s,
    )
    budget = profile.probe_seconds + profile.request_timeout_s + profile.drain_timeout_s
    found = bench.load(running, spec, timeout=budget + 60).phases[0]
    capacity = float(found.get("completed_rps") or 0.0)
    if capacity <= 0 and found.get("ok"):
        # Nothing landed inside the counting window (a very short probe on a busy
        # machine): fall back to everything the probe got done, drain included.
        spent = found["seconds"] + (found.get("drain_s") or 0.0)
        capacity = found["ok"] / max(spent, 1e-3)
    return capacity, found


def _open_phases(
    bench: Bench,
    running: RunningStack,
    profile: Profile,
    path: str,
    rates: list[tuple[str, float]],
    seconds: float,
    connections: str,
) -> tuple[list[dict[str, Any]], LoadOutcome]:
    """Open loops at each ``(label, rate)`` in turn for ``seconds``, each drained before the next.

    One generator process runs them all: starting one costs about a second on a busy machine.
    """
    phases = tuple(
        Phase(
            label,
            path,
            seconds,
            profile.open_connections,
            rate=rate,
            writes=True,
            drain=True,
            connections=connections,
        )
        for label, rate in rates
    )
    spec = LoadSpec(
        "",
        0,
        new_run_id(),
        phases,
        timeout_s=profile.request_timeout_s,
        drain_timeout_s=profile.drain_timeout_s,
        warm_s=min(seconds / 4, 1.0),
    )
    budget = len(phases) * (seconds * 3 + profile.drain_timeout_s) + profile.request_timeout_s
    outcome = bench.load(running, spec, timeout=budget + 60)
    return outcome.phases, outcome

"""Capacity with slow work: how the load reaches all of a server, what theory says, and
whether a measured capacity holds up.

A server with several web processes (gunicorn's workers) shares one listening
socket between them, and each process keeps the connections it accepted; a
client that reuses its hottest connections loads one process. The harness
therefore measures such a server over a set of connections that every process
holds an equal share of, used in turn (``_connection.BALANCED``), and a
hot-connection client separately, as a finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bgref_compare.loadgen._connection import BALANCED, HOT, ROUND_ROBIN
from bgref_compare.registry import Impl, get

__all__ = [
    "GAP",
    "KEEP_UP_S",
    "OVER",
    "UNDER",
    "Theory",
    "awaited_at_once",
    "declared_theory",
    "describe_gap",
    "falls_behind",
    "keeps_up",
    "spread_policy",
    "theory",
    "verdict",
]

# The validation's open loops, as fractions of the measured capacity.
UNDER = 0.9
OVER = 1.1
# Keeping up: every acknowledged message is in the log within this long of the end.
KEEP_UP_S = 1.0
# Falling behind at OVER: fewer completions than this share of the offered rate
# while the load ran (a server that keeps up completes all of it; one at its
# capacity completes 1 / OVER of it, about 91%), or a drain longer than KEEP_UP_S.
_BEHIND = 0.96
# A measurement further than this from the theoretical capacity needs explaining.
GAP = 0.2


def spread_policy(impl: Impl) -> str:
    """The connection policy that reaches every web process of ``impl``."""
    return BALANCED if impl.web_processes > 1 else ROUND_ROBIN


def hot_policy() -> str:
    """The policy of a client that reuses its hottest connections (client pools, proxies)."""
    return HOT


@dataclass(frozen=True)
class Theory:
    """The capacity an approach's declared workers allow, and the formula with its inputs."""

    rps: float
    formula: str

    def gap(self, measured: float | None) -> float | None:
        """How far ``measured`` is from theory, as a signed fraction (None: not measured)."""
        if measured is None or self.rps <= 0:
            return None
        return measured / self.rps - 1.0


def theory(impl: Impl, delay_ms: float, workers: int | None = None) -> Theory | None:
    """``workers`` (default: the registry's) × web processes where each has them × the
    messages one worker awaits at once ÷ work time."""
    count = workers if workers is not None else impl.default_workers
    if count is None or impl.default_workers is None or delay_ms <= 0:
        return None
    processes = impl.web_processes if impl.workers_per_web_process else 1
    at_once = impl.messages_at_once
    rps = count * processes * at_once / (delay_ms / 1000)
    formula = f"{count} {impl.workers_noun}"
    if impl.workers_per_web_process:
        formula += f" × {processes} web processes"
    if at_once > 1:
        formula += f" × {at_once:,} messages awaited at once"
    formula += f" ÷ {delay_ms:g} ms"
    return Theory(round(rps, 1), formula)


def keeps_up(phase: dict[str, Any]) -> bool:
    """An open loop kept up: every acknowledged message landed within KEEP_UP_S of the end."""
    drain = phase.get("drain_s")
    return bool(phase.get("drain_complete")) and drain is not None and drain <= KEEP_UP_S


def falls_behind(phase: dict[str, Any]) -> bool:
    """An open loop fell behind: completions trailed the offered rate, or the drain was long."""
    offered = phase.get("offered_rps") or 0.0
    completed = phase.get("completed_rps") or 0.0
    return not keeps_up(phase) or completed < _BEHIND * offered


def verdict(kept_up: bool | None, fell_behind: bool | None) -> str:
    """``confirmed``, ``too high`` (UNDER fell behind), ``too low`` (OVER kept up) or neither."""
    if kept_up is None or fell_behind is None:
        return "not validated"
    if kept_up and fell_behind:
        return "confirmed"
    if not kept_up and fell_behind:
        return "too high"
    if kept_up and not fell_behind:
        return "too low"
    return "inconsistent"


def declared_theory(run: dict[str, Any], delay_ms: float) -> Theory | None:
    """The registry's theory today for a registered implementation's own runs; else the
    theory the run recorded (a variant, an implementation since removed), if any.

    A theory is declared knowledge, not a measurement: a formula corrected in the
    registry (Taskiq's, which once ignored the messages its workers await at
    once) applies to every result rendered since.
    """
    if run.get("variant", "default") == "default":
        try:
            impl = get(str(run.get("impl")))
        except KeyError:
            pass
        else:
            return theory(impl, delay_ms, run.get("workers"))
    if run.get("theory_rps") is not None:
        return Theory(float(run["theory_rps"]), str(run.get("theory_formula", "")))
    return None


def awaited_at_once(impl_id: object) -> int:
    """The messages one worker of ``impl_id`` awaits at once (1 when unknown or not awaited)."""
    try:
        return get(str(impl_id)).messages_at_once
    except KeyError:
        return 1


def describe_gap(gap: float, verdict: str | None, at_once: int = 1) -> str:
    """Why a measurement sits more than GAP from theory, as far as the run can tell.

    ``at_once``: the messages one worker awaits at once (``awaited_at_once``).
    """
    side = "below" if gap < 0 else "above"
    text = f"{abs(gap) * 100:.0f}% {side} theory"
    if verdict not in (None, "confirmed"):
        return (
            f"{text}, and the measurement failed its own validation ({verdict}): the probe, "
            "not the server, is in question"
        )
    if gap > 0:
        return (
            f"{text}: more than the declared workers allow, so the registry's declared "
            "inputs do not match the server that ran"
        )
    if at_once > 1:
        return (
            f"{text}: each worker process awaits up to {at_once:,} messages at once, so the "
            "workers are not what limits it; the servers' one CPU, shared by every process, is"
        )
    if verdict == "confirmed":
        return (
            f"{text}, and the open loops at 90% and 110% confirm the measurement: the "
            "declared workers are not the only limit in this run (the server's processes "
            "share one CPU with everything else they do)"
        )
    return f"{text}; this run has no validation to tell the probe from the server"

"""What a throughput run says about where its CPU went, and about a stack that fell behind.

Read by the report's section 1 and by the figures rendered into each package's README.
"""

from __future__ import annotations

from typing import Any

from bgref_compare._results import Run

from ._figures import fmt, pct

__all__ = ["behind_sentence", "cpu_sentence", "parts_sentence"]

# The web answered this much faster than the stack completed: worth a sentence.
_BEHIND = 1.1


def cpu_sentence(run: Run) -> str:
    """Where a send-message's server CPU went, process by process, against the baseline's."""
    cpu: dict[str, Any] = run.get("cpu_us") or {}
    send, base = cpu.get("send-message"), cpu.get("baseline")
    if not send or not base or not send["us"] or not base["us"]:
        return ""

    def parts(costs: dict[str, float]) -> str:
        named = [f"{name} {fmt(us)} µs" for name, us in costs.items() if name != "all" and us >= 1]
        return ", ".join(named)

    calls = send.get("redis_per_request") or {}
    redis = (
        " Redis ran "
        + ", ".join(f"{fmt(count, 1)} {name.upper()}" for name, count in list(calls.items())[:4])
        + " per message."
        if calls
        else ""
    )
    if cpu.get("over") == "repetitions":
        # Read over the ratio's own slices: the split explains that ratio, and a path
        # that leaves the CPU idle part of the time is waiting, not computing.
        source = (
            f"over the same slices as the ratio ({fmt(send.get('seconds'), 1)} s of "
            "send-message, drains included)"
        )
        busy = (
            f" The servers' CPU was busy {pct(send.get('busy'))} of the time on "
            f"send-message, {pct(base.get('busy'))} on the baseline."
        )
    else:
        source = f"({fmt(cpu.get('seconds'), 1)} s of each path, drain included)"
        busy = ""
    return (
        f" Server CPU per request by process, from the kernel {source}: send-message "
        f"{fmt(send['us']['all'])} µs ({parts(send['us'])}), baseline "
        f"{fmt(base['us']['all'])} µs ({parts(base['us'])})." + redis + busy
    )


def behind_sentence(run: Run) -> str:
    """The web's answers against what the stack completed, where its workers fell behind."""
    answered = run.get("answered_rps")
    if answered is None or not run["rps"] or answered < _BEHIND * run["rps"]:
        return ""
    return (
        f" During the slices its web answered {fmt(answered)} requests/s, but the log took up "
        f"to {fmt(run.get('drain_s'), 2)} s after a slice to catch up: the stack sustains "
        f"{fmt(run['rps'])}/s."
    )


def parts_sentence(run: Run, target: float | None = None) -> str:
    """The message's CPU taken apart (``job_cost``): the ratio its parts imply, and what follows.

    The parts are measured each alone, so their sum is what a message costs at
    best: an implied ratio under the target puts it out of reach with jobs of
    that size; one above the measured ratio is lost to sharing the CPU.
    """
    parts = run.get("job_cost") or {}
    us: dict[str, float] = parts.get("us") or {}
    if not us or not parts.get("jobs"):
        return ""
    implied, measured = parts.get("implied_ratio"), run.get("ratio")
    redis = _redis_us(us)
    sentence = (
        f" Taken apart ({fmt(parts.get('messages'))} messages queued at "
        f"{fmt(parts.get('connections'))} connections with the workers frozen, then written by "
        f"them alone): the web {fmt(us.get('web'))} µs a message against "
        f"{fmt(parts.get('baseline_us'))} µs a baseline request (also alone), the workers "
        f"{fmt(us.get('workers'))} µs ({fmt(parts.get('workers_us_per_job'))} µs a job of "
        f"{fmt(parts.get('per_job'), 1)} messages), Redis "
        f"{fmt(redis)} µs: "
        f"a ratio of {fmt(implied, 2)} if nothing were lost to sharing one CPU."
    )
    if implied is None:
        return sentence
    if target is not None and measured is not None and measured < target:
        sentence += _budget_sentence(parts, us, redis, target)
    if target is not None and implied < target:
        sentence += (
            f" That is under the target of {target}: with jobs of this size the parts "
            "alone put it out of reach."
        )
    elif measured is not None and implied > measured:
        sentence += (
            f" The measured {fmt(measured, 2)} is what remains with the web and the workers "
            "taking turns on the CPU."
        )
    return sentence


def _redis_us(us: dict[str, float]) -> float:
    """Redis's CPU a message, queuing it and writing it (``JobCost.to_json``'s two parts)."""
    return (us.get("redis, queuing") or 0.0) + (us.get("redis, writing") or 0.0)


def _budget_sentence(
    parts: dict[str, Any], us: dict[str, float], redis: float, target: float
) -> str:
    """How much of what the target leaves for the work the parts take, before any sharing.

    At a ratio of ``target`` a message may cost ``1 / target`` baseline requests
    of server CPU; what the web spends beyond its baseline request, the workers
    and Redis must all fit in the rest.
    """
    baseline = parts.get("baseline_us")
    if not baseline:
        return ""
    budget = baseline * (1 / target - 1)
    web_extra = (us.get("web") or 0.0) - baseline
    workers = us.get("workers") or 0.0
    used = web_extra + workers + redis
    return (
        f" At the target of {target} a message may cost {1 / target:.3g} times a baseline "
        f"request's server CPU: {fmt(budget)} µs beyond the web's own {fmt(baseline)} µs, of "
        f"which the web's extra {fmt(web_extra)} µs, the workers' {fmt(workers)} µs and "
        f"Redis's {fmt(redis)} µs take {pct(used / budget)} before anything is lost to "
        "sharing one CPU."
    )

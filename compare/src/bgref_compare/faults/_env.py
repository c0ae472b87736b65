"""The environment of a fault stack: work slow enough to strike mid-burst, orphans back soon."""

from __future__ import annotations

from bgref_compare.registry import Impl

__all__ = [
    "DELAY_MS",
    "VISIBILITY_TIMEOUT_S",
    "WORKERS",
    "fault_env",
    "recycle_env",
    "redelivery_env",
]

# The simulated work of a fault run: 20 ms before each write.
DELAY_MS = 20
# Unacknowledged broker messages come back this many seconds after a worker died.
VISIBILITY_TIMEOUT_S = 3.0
# Background workers where the approach has that knob: enough to keep up with a burst.
WORKERS = 4


def redelivery_env(impl: Impl, seconds: float) -> dict[str, str]:
    """The environment that makes unacknowledged broker messages come back after ``seconds``."""
    if impl.visibility_timeout_env is None:
        return {}
    return {impl.visibility_timeout_env: f"{seconds:g}"}


def recycle_env(impl: Impl, max_requests: int) -> dict[str, str] | None:
    """The environment that makes the web server recycle its processes, or None if it cannot."""
    if impl.recycle_env is None:
        return None
    return {name: value.format(n=max_requests) for name, value in impl.recycle_env.items()}


def fault_env(
    impl: Impl, *, delay_ms: float = DELAY_MS, retry_bound_s: float | None = None
) -> dict[str, str]:
    """A fault stack's environment: slow work, quick redelivery, enough workers.

    ``retry_bound_s`` sets how long an approach that holds failed writes
    (``holds_writes``) keeps them; without it, the writer's default holds.
    """
    env = {"LOG_DELAY_MS": f"{delay_ms:g}", **redelivery_env(impl, VISIBILITY_TIMEOUT_S)}
    if retry_bound_s is not None and impl.holds_writes:
        env["LOG_RETRY_SECONDS"] = f"{retry_bound_s:g}"
    if impl.workers_env is not None:
        env[impl.workers_env] = str(WORKERS)
    return env

"""The implementation's test trace (``Impl.trace_env``), and idleness by its own measure.

An implementation that declares ``trace_env`` appends ``<event> <key>`` lines
to the file that variable names (docs/contract.md, Test trace). The stacks of
the suite turn it on (``_stacks.StackFactory``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bgref_compare import Stack, broker_idle, wait_until

__all__ = ["Event", "events", "idle", "trace_path", "wait_idle"]

# (event, key) in the order the implementation recorded them.
Event = tuple[str, str]


def trace_path(stack: Stack) -> Path | None:
    """The stack's trace file, or None if the implementation records none or it is off."""
    name = stack.impl.trace_env
    value = stack.env.get(name, "") if name is not None else ""
    return Path(value) if value else None


def events(stack: Stack) -> list[Event]:
    """Every complete line of the stack's trace, oldest first."""
    path = trace_path(stack)
    if path is None:
        raise AssertionError(f"{stack.impl.id}'s stack records no trace")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    # A line being appended right now has no newline yet: left for the next read.
    lines = data.decode().split("\n")[:-1]
    return [(event, key) for event, _, key in (line.partition(" ") for line in lines)]


def _in_flight(stack: Stack) -> int:
    counts = Counter(event for event, _ in events(stack))
    return counts["open"] - counts["close"]


def idle(stack: Stack) -> bool:
    """Whether the stack has no work in flight, by its own measures.

    Its trace: every unit of work opened is closed (an ASGI call returns after
    its background tasks; a pool job ends). Its broker: nothing queued, taken or
    unacknowledged (a message is acknowledged after its write). Neither assumes
    that work is done in the order it came.
    """
    if trace_path(stack) is not None and _in_flight(stack):
        return False
    broker = stack.env.get("REDIS_URL")
    return broker is None or broker_idle(broker, stack.impl)


def wait_idle(stack: Stack, timeout: float) -> None:
    """Wait until ``idle(stack)``; fail if it never is within ``timeout`` seconds."""
    if trace_path(stack) is None and stack.env.get("REDIS_URL") is None:
        raise AssertionError(
            f"{stack.impl.id} has no measure of idleness: declare trace_env in the registry"
        )
    assert wait_until(lambda: idle(stack), timeout), (
        f"{stack.impl.id} never went idle within {timeout} s"
        + (f" ({_in_flight(stack)} unit(s) of work in flight)" if trace_path(stack) else "")
    )

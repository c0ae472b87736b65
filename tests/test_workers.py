"""What ``Impl.workers_env`` (``BGREF_WORKERS``) changes: how much work runs at once.

Seen from outside: the threads and processes of the stack that are mid-task
(asleep in the simulated work, ``LOG_DELAY_MS``), counted through /proc while
one more message than there are workers waits. No timing bound: the count is
sampled until the first message is written, which ends the first round.
Threads that sleep while nothing is queued are the workers' own polling loops
(Dramatiq's main thread and consumers sleep between polls), not work: those
seen asleep before the messages are sent are left out of the count.
"""

from __future__ import annotations

import psutil
import pytest

from bgref_compare import Impl, Stack, StackError, wait_until
from bgref_compare.faults import threads_asleep

from ._helpers import SETTLE_DEADLINE, http_client, logged, send, token
from ._stacks import StackFactory

# Long enough that the first round's works overlap on a busy machine, however
# slowly the requests that start them arrive.
SLOW_MS = 700
# How long the idle stack is watched for threads that sleep without work: longer
# than the longest sleep of a polling loop (Dramatiq's worker sleeps 1 s at most).
IDLE_WATCH = 1.5


def _workers_env(impl: Impl) -> str:
    if impl.workers_env is None:
        pytest.skip(f"{impl.id} has no setting for its number of background workers")
    return impl.workers_env


def _asleep(stack: Stack) -> list[set[int]]:
    """The threads asleep in each process of the stack that does the work.

    Those are the processes that a process of the stack started (pool
    processes, a server's workers), and a worker process that runs its tasks
    in its own threads (declared without a ``pool``).
    """
    threaded = {p.name for p in stack.impl.processes[1:] if not p.pool}
    found: list[set[int]] = []
    for name, proc in stack.processes.items():
        if name in threaded:
            found.append(threads_asleep(proc.pid))
        try:
            children = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        found.extend(threads_asleep(child.pid) for child in children)
    return found


def _idle_sleepers(stack: Stack) -> set[int]:
    """The threads seen asleep while nothing is queued: polling loops, not work."""
    seen: set[int] = set()

    def watch() -> bool:
        for threads in _asleep(stack):
            seen.update(threads)
        return False

    wait_until(watch, IDLE_WATCH, interval=0.005)
    return seen


def _mid_task(stack: Stack, idle: set[int]) -> int:
    """The most work running at once in the stack, where its workers bound it.

    Per web process where each has its own workers (``workers_per_web_process``),
    else in all the stack's processes together; threads in ``idle`` are not work.
    """
    counts = [len(threads - idle) for threads in _asleep(stack)]
    return max(counts, default=0) if stack.impl.workers_per_web_process else sum(counts)


@pytest.mark.parametrize("workers", [1, 3])
def test_the_workers_setting_bounds_the_work_at_once(
    impl: Impl, stack_factory: StackFactory, workers: int
) -> None:
    """With ``BGREF_WORKERS=n`` and n + 1 slow messages, exactly n are worked on at once."""
    name = _workers_env(impl)
    if impl.jobs_per_worker != 1:
        # Each worker overlaps up to that many jobs that await the work, which
        # /proc cannot tell from waiting for new work (registry: jobs_per_worker).
        pytest.skip(f"each of {impl.id}'s workers runs up to {impl.jobs_per_worker} jobs at once")
    # Work longer than an idle worker may sleep before it looks for work again
    # (registry: idle_poll_s), so that every worker has woken while the first
    # round runs.
    slow_ms = SLOW_MS + round(impl.idle_poll_s * 1000)
    stack = stack_factory({name: str(workers), "LOG_DELAY_MS": str(slow_ms)})
    idle = _idle_sleepers(stack)
    messages = [f"workers {token()} {n}" for n in range(workers + 1)]
    # One connection: one web process takes them all, where there are several.
    with http_client(stack.base_url) as client:
        for message in messages:
            assert send(client, message).status_code == 200
    peak = 0

    def first_round_over() -> bool:
        nonlocal peak
        peak = max(peak, _mid_task(stack, idle))
        return bool(set(messages) & set(logged(stack)))

    assert wait_until(first_round_over, SETTLE_DEADLINE, interval=0.005), (
        f"nothing written within {SETTLE_DEADLINE} s"
    )
    assert peak == workers, f"{name}={workers}: {peak} messages worked on at once"


def test_a_workers_setting_that_means_nothing_stops_the_start(
    impl: Impl, stack_factory: StackFactory
) -> None:
    """``BGREF_WORKERS=0``: the implementation refuses to start and says why."""
    name = _workers_env(impl)
    with pytest.raises(StackError, match=rf"{name} must be[^\n]*'0'"):
        stack_factory({name: "0"})

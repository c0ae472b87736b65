"""A stop whose queued work outlasts the grace period: the shortfall is logged, not silent."""

from __future__ import annotations

import re
import signal

import httpx
import pytest

from bgref_compare import Impl
from bgref_compare.faults import written

from ._faults import describe
from ._helpers import send
from ._stacks import StackFactory

pytestmark = pytest.mark.faults

# The grace period the server gets, and work that cannot fit in it: one thread per
# worker process, a second per write, more writes than seconds of grace.
GRACE_S = 3
DELAY_MS = "1000"
MESSAGES = 12
# The server must be gone well after its grace period: then it was killed, not hung.
EXIT_DEADLINE = GRACE_S + 20.0
# "<drain_overrun_log>: N acknowledged messages unwritten ..."
_UNWRITTEN = re.compile(r": (\d+) acknowledged messages unwritten")


def test_a_drain_that_overruns_the_grace_period_is_logged_before_the_kill(
    impl: Impl, stack_factory: StackFactory
) -> None:
    """SIGTERM with more queued work than the grace period allows: the loss is reported."""
    if impl.grace_env is None or impl.drain_overrun_log is None:
        pytest.skip(f"{impl.id} declares no grace period to overrun")
    env = {name: value.format(s=GRACE_S) for name, value in impl.grace_env.items()}
    if impl.workers_env is not None:
        env[impl.workers_env] = "1"
    stack = stack_factory({"LOG_DELAY_MS": DELAY_MS, **env})
    messages = [f"overrun {i:02d}" for i in range(MESSAGES)]
    # One kept-alive connection, still open at the signal: gthread lingers on it
    # before the drain starts, which is what ate the drain's time before.
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        for message in messages:
            assert send(client, message).status_code == 200
        web = stack["web"]
        web.signal(signal.SIGTERM)
        assert web.wait(EXIT_DEADLINE) is not None, f"still running\n{describe(stack)}"
    output = stack.output()
    reports = [
        int(m.group(1))
        for line in output.splitlines()
        if impl.drain_overrun_log in line
        for m in [_UNWRITTEN.search(line)]
        if m
    ]
    lost = [m for m in messages if m not in set(written(stack.log_path))]
    assert lost, f"the drain finished in time: nothing to report\n{describe(stack)}"
    assert reports, f"{len(lost)} messages lost without a log line\n{describe(stack)}"
    # Pool threads write on until the kill, so the report is the most that was lost.
    assert sum(reports) >= len(lost), f"reported {reports}, lost {len(lost)}"

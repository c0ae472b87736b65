"""Fault 6: web worker processes recycled under load (gunicorn --max-requests) lose nothing."""

from __future__ import annotations

import psutil
import pytest

from bgref_compare import Impl
from bgref_compare.faults import Burst, burst_messages, recycle_env, settle

from ._faults import describe
from ._stacks import StackFactory

pytestmark = pytest.mark.faults

BURST = 500
MAX_REQUESTS = 50
SETTLE = 60.0


def test_recycled_web_workers_lose_nothing(
    impl: Impl, stack_factory: StackFactory, request: pytest.FixtureRequest
) -> None:
    """A burst across several recycles: every acknowledged message is written once."""
    env = recycle_env(impl, MAX_REQUESTS)
    if env is None:
        pytest.skip(f"{impl.id}'s server runs no worker processes to recycle")
    stack = stack_factory({"LOG_DELAY_MS": "20", **env})
    web = psutil.Process(stack["web"].pid)
    first = {child.pid for child in web.children()}
    # A new connection per request: a recycled process closes its idle ones.
    burst = Burst(stack.base_url, burst_messages("recycle", BURST), keepalive=False)
    answers = burst.start().join()
    last = {child.pid for child in web.children()}
    ledger = settle(stack, answers, SETTLE)
    ledger.record(request.node.user_properties, "worker recycling")
    assert first, "no worker processes"
    assert first.isdisjoint(last), (
        f"not every process was recycled: {sorted(first)} then {sorted(last)}\n{describe(stack)}"
    )
    # A recycle must cost no request either: every one is answered 200.
    ledger.check_all_answered()
    ledger.check_consistent()
    ledger.check_nothing_lost()

"""When the work starts: strictly after the answer, where the registry says so.

The implementation's test trace (``Impl.trace_env``, docs/contract.md) records
``answered`` once the answer's last body chunk was handed to the server, and
``work`` when the background work of the same request starts. Timing from the
client cannot tell the two apart: the answer fits in the socket's buffers, so a
client may read it after the work has started either way.
"""

from __future__ import annotations

import httpx
import pytest

from bgref_compare import Impl, Stack

from ._helpers import SETTLE_DEADLINE, send, token, wait_for_messages
from ._trace import events, wait_idle

MESSAGES = 20


def test_the_work_starts_after_the_answer(impl: Impl, stack: Stack, client: httpx.Client) -> None:
    """Each request's work starts after its answer was handed to the server, never before."""
    if not impl.starts_after_answer:
        pytest.skip(f"{impl.id} may start the work before the answer is sent (docs/contract.md)")
    wait_idle(stack, SETTLE_DEADLINE)
    start = len(events(stack))
    messages = [f"after-answer {token()} {n}" for n in range(MESSAGES)]
    for message in messages:
        assert send(client, message).status_code == 200
    wait_for_messages(stack, messages, SETTLE_DEADLINE)
    wait_idle(stack, SETTLE_DEADLINE)
    answered: set[str] = set()
    works: list[str] = []
    for event, key in events(stack)[start:]:
        if event == "answered":
            answered.add(key)
        elif event == "work":
            assert key in answered, f"request {key}: the work started before its answer was sent"
            works.append(key)
    # One work per message: a trace that records none cannot pass.
    assert len(works) == MESSAGES, f"{len(works)} works traced for {MESSAGES} messages"
    assert len(set(works)) == MESSAGES, "a request's work traced twice"

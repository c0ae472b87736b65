"""The work happens after the answer, once per acknowledged message, also under load."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import httpx
import pytest

from bgref_compare import Stack

from ._helpers import (
    IDLE_DEADLINE,
    KEEPALIVE_EXPIRY,
    RECEIVED,
    SEND,
    SETTLE_DEADLINE,
    assert_json,
    http_client,
    logged,
    message_query,
    send,
    token,
    wait_for_messages,
)
from ._stacks import StackFactory

# The contract: with 500 ms of simulated work, the answer comes in under 250 ms.
SIMULATED_DELAY_MS = 500
ANSWER_BOUND = 0.250
REQUESTS = 2000
CONCURRENCY = 50


def test_each_message_is_written_exactly_once_at_idle(stack: Stack, client: httpx.Client) -> None:
    """At idle, every acknowledged message is in the log within 2 s, exactly once."""
    sent = [f"once {i} {token()}" for i in range(20)]
    for message in sent:
        response = send(client, message)
        assert response.status_code == 200
        assert assert_json(response) == RECEIVED
    wait_for_messages(stack, sent, IDLE_DEADLINE)
    # A later message, once written, leaves time for any duplicate to land too.
    sentinel = f"sentinel {token()}"
    assert send(client, sentinel).status_code == 200
    counts = Counter(wait_for_messages(stack, [sentinel], SETTLE_DEADLINE))
    assert {message: counts[message] for message in sent} == dict.fromkeys(sent, 1)


def _timed_round(slow: Stack, client: httpx.Client) -> tuple[list[str], list[float]]:
    """Send a few messages in a row; return them and how long each answer took."""
    sent: list[str] = []
    elapsed: list[float] = []
    # Several in a row: an answer must not wait for an earlier message's work either.
    for i in range(3):
        message = f"non-blocking {i} {token()}"
        started = time.perf_counter()
        response = send(client, message)
        elapsed.append(time.perf_counter() - started)
        assert response.status_code == 200
        assert assert_json(response) == RECEIVED
        assert message not in logged(slow), "written before the answer was sent"
        sent.append(message)
    return sent, elapsed


def test_the_answer_does_not_wait_for_the_work(stack_factory: StackFactory) -> None:
    """With 500 ms of simulated work, POST answers in under 250 ms; the line comes later."""
    slow = stack_factory({"LOG_DELAY_MS": str(SIMULATED_DELAY_MS)})
    rounds: list[list[float]] = []
    with http_client(slow.base_url) as client:
        # The bound is on the answer, not on connecting: open the connection first.
        assert client.get("/healthz").status_code == 200
        # A noisy neighbour on a shared machine can stall one round; an answer that
        # waits for the work is slow in every round (by 500 ms at least), so a
        # later round never lets it pass.
        while len(rounds) < 3:
            sent, elapsed = _timed_round(slow, client)
            log = wait_for_messages(slow, sent, SETTLE_DEADLINE)
            assert [log.count(message) for message in sent] == [1] * len(sent)
            rounds.append(elapsed)
            if max(elapsed) < ANSWER_BOUND:
                return
    timings = [[f"{seconds * 1000:.0f} ms" for seconds in r] for r in rounds]
    pytest.fail(f"answers not all under {ANSWER_BOUND * 1000:.0f} ms in any round: {timings}")


def _load(seed: int) -> list[str]:
    """2,000 messages, each distinct one twice; mostly short, one in ten up to 1,000 characters."""
    rng = random.Random(seed)
    fillers = ["x", "é", "\n", "😀", "\\", "א", " "]
    distinct = []
    for i in range(REQUESTS // 2):
        head = f"load {i:04d} {token()} "
        longest = 1000 - len(head) if i % 10 == 0 else 40
        distinct.append(head + rng.choice(fillers) * rng.randrange(0, longest))
    messages = distinct * 2
    rng.shuffle(messages)
    return messages


async def _post_all(base_url: str, messages: list[str]) -> list[int]:
    limits = httpx.Limits(
        max_connections=CONCURRENCY,
        max_keepalive_connections=CONCURRENCY,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        slots = asyncio.Semaphore(CONCURRENCY)

        async def post(message: str) -> int:
            async with slots:
                url = httpx.URL(SEND, query=message_query(message))
                return (await client.post(url)).status_code

        return await asyncio.gather(*(post(message) for message in messages))


@pytest.mark.slow
def test_concurrent_requests_give_exactly_the_lines_sent(stack_factory: StackFactory) -> None:
    """2,000 requests at concurrency 50: 2,000 intact lines, the same multiset as sent."""
    # A stack of its own: its whole log must be exactly what this test sent.
    busy = stack_factory()
    messages = _load(seed=2000)
    statuses = asyncio.run(_post_all(busy.base_url, messages))
    assert Counter(statuses) == {200: REQUESTS}
    wait_for_messages(busy, messages, timeout=90)
    with http_client(busy.base_url) as client:
        sentinel = f"sentinel {token()}"
        assert send(client, sentinel).status_code == 200
        log = wait_for_messages(busy, [sentinel], SETTLE_DEADLINE)
    log.remove(sentinel)
    missing = Counter(messages) - Counter(log)
    unexpected = Counter(log) - Counter(messages)
    assert not missing, f"{sum(missing.values())} lost, e.g. {list(missing)[:2]!r}"
    assert not unexpected, (
        f"{sum(unexpected.values())} extra or torn lines, e.g. {list(unexpected)[:2]!r}"
    )
    assert len(log) == REQUESTS

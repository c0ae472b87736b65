"""Fault 4 and the broker's security: Redis killed or frozen, a password, loopback only."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import pytest

from bgref_compare import Impl, RedisReplyError, RedisServer, Stack, redis_call, wait_until
from bgref_compare.faults import (
    NO_ANSWER,
    WORKERS,
    Answer,
    Burst,
    burst_messages,
    fault_env,
    listening_addresses,
    redelivery_env,
    settle,
)

from ._faults import check_refusal, check_unhealthy, describe, require_broker
from ._helpers import http_client, send
from ._stacks import STACKS, StackFactory

pytestmark = pytest.mark.faults

# The contract: with the broker away, /send-message/ answers 503 within 3 s.
REFUSAL_BOUND = 3.0
# Acknowledged before the fault, refused during it, acknowledged after it.
BEFORE, DURING, AFTER = 100, 10, 100
# A refusal that took this long waited on the broker rather than knowing it was away.
WAITED_ON_BROKER = 0.5
# How long the service may take to notice that the broker is back.
RECOVERY = 20.0
SETTLE = 60.0
PASSWORD = "s3cret pass/word"  # a space and a slash: the URL must quote it
LOOPBACK = {"127.0.0.1", "::1"}


@pytest.fixture(scope="module")
def broker(impl: Impl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A password-protected Redis of the module's own, durable, so that it can be killed."""
    require_broker(impl)
    with RedisServer(tmp_path_factory.mktemp("broker"), password=PASSWORD, durable=True) as server:
        yield server


@pytest.fixture(scope="module")
def broker_stack(
    impl: Impl, broker: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A stack on the module's broker: 20 ms of work, orphaned messages back in seconds."""
    factory = StackFactory(impl, tmp_path_factory, None)
    env = {**fault_env(impl), **redelivery_env(impl, 4)}
    try:
        yield factory(env, redis_url=broker.url)
    finally:
        factory.close()


@pytest.fixture
def fault_stack(broker_stack: Stack, broker: RedisServer, request: pytest.FixtureRequest) -> Stack:
    """The module's stack, every process running, shown in the report of a failing test."""
    if not broker.process.running:  # a test before this one failed
        broker.restart()
    for name, proc in broker_stack.processes.items():
        if not proc.running:  # a test before this one failed
            broker_stack.start_process(name)
    request.node.stash.setdefault(STACKS, []).append(broker_stack)
    return broker_stack


def _all_acknowledged(stack: Stack, label: str, count: int) -> list[Answer]:
    answers = Burst(stack.base_url, burst_messages(label, count)).start().join()
    statuses = Counter(answer.status for answer in answers)
    assert statuses == {200: count}, f"{label}: {dict(statuses)}\n{describe(stack)}"
    return answers


def _refused_quickly(stack: Stack, label: str) -> list[Answer]:
    """Requests while the broker is away: each gets a 503 within the bound, none a 200."""
    answers = Burst(stack.base_url, burst_messages(label, DURING), timeout=10).start().join()
    statuses = Counter(answer.status for answer in answers)
    assert statuses == {503: DURING}, f"{label}: {dict(statuses)} (no answer: {NO_ANSWER})"
    slowest = max(answer.elapsed for answer in answers)
    assert slowest < REFUSAL_BOUND, f"{label}: a 503 took {slowest:.2f} s"
    with http_client(stack.base_url) as client:
        health = client.get("/healthz", timeout=10)
        message = burst_messages(label, 1)[0]
        refusal = send(client, message)
    assert health.elapsed.total_seconds() < REFUSAL_BOUND
    check_unhealthy(health)
    check_refusal(refusal)
    elapsed = refusal.elapsed.total_seconds()
    return [*answers, Answer(message, refusal.status_code, time.monotonic(), elapsed)]


def _recovered(stack: Stack) -> None:
    """The service answers again, with every process it had: none was restarted."""
    assert wait_until(stack.healthy, RECOVERY, 0.2), (
        f"not healthy {RECOVERY} s after the broker came back\n{describe(stack)}"
    )
    exited = [name for name, proc in stack.processes.items() if not proc.running]
    assert not exited, f"{exited} exited while the broker was away\n{describe(stack)}"


def test_the_broker_can_require_a_password(
    fault_stack: Stack, broker: RedisServer, request: pytest.FixtureRequest
) -> None:
    """REDIS_URL with a password works, on a broker that refuses clients without one."""
    stack = fault_stack
    with pytest.raises(RedisReplyError, match="NOAUTH"):
        redis_call(f"redis://127.0.0.1:{broker.port}/0", "PING")
    answers = _all_acknowledged(stack, "password", 20)
    ledger = settle(stack, answers, SETTLE)
    ledger.check_consistent()
    ledger.check_nothing_lost()


def test_the_private_redis_listens_on_loopback_only(
    redis: tuple[str, RedisServer | None] | None,
) -> None:
    """The suite's own redis-server accepts connections on loopback addresses only."""
    if redis is None:
        pytest.skip("this implementation has no broker")
    url, server = redis
    if server is None:
        pytest.skip("REDIS_URL names a server that the suite did not start")
    addresses = listening_addresses(server.process.pid)
    assert addresses, "redis-server listens nowhere"
    assert addresses <= LOOPBACK, f"listening on {sorted(addresses - LOOPBACK)}"
    assert redis_call(url, "CONFIG", "GET", "protected-mode") == [b"protected-mode", b"yes"]


def test_a_killed_broker_gets_503s_then_recovers_and_loses_nothing(
    impl: Impl, fault_stack: Stack, broker: RedisServer, request: pytest.FixtureRequest
) -> None:
    """Redis killed: 503 within 3 s; restarted: the service recovers, nothing acknowledged lost."""
    stack = fault_stack
    before = _all_acknowledged(stack, "broker-killed-before", BEFORE)
    # Work still queued when Redis dies survives only in its append-only file.
    queued = redis_call(broker.url, "LLEN", impl.broker_queue) if impl.broker_queue else None
    broker.kill()
    during = _refused_quickly(stack, "broker-killed-during")
    broker.restart()
    _recovered(stack)
    after = _all_acknowledged(stack, "broker-killed-after", AFTER)
    ledger = settle(stack, [*before, *during, *after], SETTLE)
    ledger.record(request.node.user_properties, "broker killed")
    request.node.user_properties.append(("queued_at_kill", queued))
    # Messages the worker held when Redis died come back: at-least-once, at
    # most the jobs its pool processes held.
    ledger.check_consistent(max_duplicated=WORKERS * impl.held_per_worker)
    ledger.check_nothing_lost()


def test_a_frozen_broker_gets_503s_then_recovers_and_loses_nothing(
    impl: Impl, fault_stack: Stack, broker: RedisServer, request: pytest.FixtureRequest
) -> None:
    """Redis frozen (SIGSTOP): 503 within 3 s, never a hang; thawed: nothing acknowledged lost."""
    stack = fault_stack
    before = _all_acknowledged(stack, "broker-frozen-before", BEFORE)
    broker.pause()
    try:
        during = _refused_quickly(stack, "broker-frozen-during")
    finally:
        broker.resume()
    _recovered(stack)
    after = _all_acknowledged(stack, "broker-frozen-after", AFTER)
    ledger = settle(stack, [*before, *during, *after], SETTLE)
    ledger.record(request.node.user_properties, "broker frozen")
    # A frozen Redis still takes bytes into its socket buffer: a publish that
    # timed out (a 503) may be carried out once it thaws. Only requests refused
    # after waiting on the broker are in doubt; one refused at once never is.
    waited = {answer.message for answer in during if answer.elapsed >= WAITED_ON_BROKER}
    # Once the web knows the broker is away it refuses at once: those refusals
    # are never in doubt, and the check below holds them to "never written".
    assert len(waited) < len(during), f"every refusal waited on the broker ({ledger})"
    request.node.user_properties.append(("refused_written", len(ledger.unexpected)))
    ledger.check_consistent(max_duplicated=WORKERS * impl.held_per_worker, in_doubt=waited)
    ledger.check_nothing_lost()

"""The implementation's variants (the idiomatic and pitfall versions) from the registry.

Every variant answers like ``/send-message/``. One that claims the contract
writes each acknowledged message exactly once; one that loses or duplicates
work by design (``Variant.loses``) is put through that fault, and the test
checks that it loses what the registry declares, and measures how much.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import psutil
import pytest

from bgref_compare import Impl, Stack, Variant, get, wait_until
from bgref_compare.faults import VISIBILITY_TIMEOUT_S, redelivery_env
from bgref_compare.registry import (
    ANSWER_WAITS,
    GC,
    SIGTERM,
    TASK_ERROR,
    USE_AFTER_CLEANUP,
    WORKER_CHILD_SIGKILL,
)

from ._helpers import (
    IDLE_DEADLINE,
    RECEIVED,
    SETTLE_DEADLINE,
    assert_json,
    http_client,
    logged,
    nothing_written,
    output_tail,
    request,
    send,
    sentinel,
    token,
    wait_for_messages,
)
from ._stacks import RedisDatabases, StackFactory
from ._trace import wait_idle

MESSAGES = 20
# Simulated work long enough to be pending when the fault strikes.
SLOW_MS = 2000
# What the Celery lab's tasks log as they start (bgref_celery._lab.STARTED).
TASK_STARTED = "lab task started"


def _sigterm_applies(impl: Impl, variant: Variant) -> bool:
    # Where the work is still in the web process at the answer; a variant that
    # declares the loss, and those claiming the contract beside it (the contrast).
    # The comparison's fault matrix reads the same rule.
    return SIGTERM in impl.variant_faults(variant)


def _worker_fault_applies(impl: Impl, variant: Variant) -> bool:
    return WORKER_CHILD_SIGKILL in impl.variant_faults(variant)


# The fault tests and the variants each applies to; the others run for every variant.
_APPLIES: dict[str, Callable[[Impl, Variant], bool]] = {
    "test_a_sigterm_loses_what_the_variant_declares": _sigterm_applies,
    "test_a_killed_worker_child_loses_what_the_variant_declares": _worker_fault_applies,
}


def _always(impl: Impl, variant: Variant) -> bool:
    return True


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``variant`` over the implementation's variants, read from the registry."""
    if "variant" in metafunc.fixturenames:
        impl = get(str(metafunc.config.getoption("--impl")))
        applies = _APPLIES.get(metafunc.definition.name, _always)
        variants = [v for v in impl.variants if applies(impl, v)]
        metafunc.parametrize("variant", variants, ids=[v.name for v in variants])


@pytest.fixture
def variant_factory(
    impl: Impl,
    variant: Variant,
    tmp_path_factory: pytest.TempPathFactory,
    redis_databases: RedisDatabases | None,
    request: pytest.FixtureRequest,
) -> Iterator[StackFactory]:
    """Start stacks served as ``variant`` needs (its server arguments, its worker); stop them."""
    factory = StackFactory(impl.serving(variant), tmp_path_factory, redis_databases, request.node)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def variant_stack(variant: Variant, stack: Stack, variant_factory: StackFactory) -> Stack:
    """The session's stack, or one of the variant's own (a server setting, the docs' worker)."""
    return variant_factory() if variant.web_args or variant.worker else stack


def _sent(variant: Variant, client: httpx.Client, label: str, count: int) -> list[str]:
    messages = [f"{variant.name} {label} {i} {token()}" for i in range(count)]
    for message in messages:
        if TASK_ERROR in variant.loses:
            # Uvicorn closes the connection of a request whose task raised, under
            # the client's next request on it: one connection per message.
            with http_client(str(client.base_url)) as fresh:
                response = send(fresh, message, variant.path)
        else:
            response = send(client, message, variant.path)
        assert response.status_code == 200, response.text
        assert assert_json(response) == RECEIVED
    return messages


def _settled(stack: Stack, client: httpx.Client) -> Counter[str]:
    """The log once a later message on /send-message/ is written and the stack is idle."""
    sentinel(stack, client)
    # Idle by the stack's own measure (trace, broker): a pool or a second process
    # may write the sentinel before earlier work.
    wait_idle(stack, SETTLE_DEADLINE)
    return Counter(logged(stack))


def test_a_variant_answers_like_send_message(variant: Variant, variant_stack: Stack) -> None:
    """A valid message gets the contract's 200; an invalid one a 422 JSON error, no write."""
    with http_client(variant_stack.base_url) as client:
        with nothing_written(variant_stack, client):
            for query in (b"message=", b"", b"message=%zz", b"message=" + b"x" * 1001):
                response = request(client, "POST", variant.path, query)
                assert response.status_code == 422, (query, response.text)
                body = assert_json(response)
                assert isinstance(body, dict)
                assert "detail" in body
        # A valid one: 200 and the contract's body (checked in _sent), and written
        # before the next test starts, where the variant writes at all.
        sent = _sent(variant, client, "answer", 1)
        if not {TASK_ERROR, GC} & variant.loses.keys():
            wait_for_messages(variant_stack, sent, SETTLE_DEADLINE)


def test_a_variant_delivers_as_declared(variant: Variant, variant_stack: Stack) -> None:
    """At idle: exactly once if it claims the contract, else what its declaration says."""
    with http_client(variant_stack.base_url) as client:
        if ANSWER_WAITS in variant.loses:
            # The work runs before the answer: the line is there when the 200 arrives.
            for message in _sent(variant, client, "answer-waits", 5):
                assert message in logged(variant_stack)
            return
        sent = _sent(variant, client, "idle", MESSAGES)
        if TASK_ERROR in variant.loses:
            counts = _settled(variant_stack, client)
            assert {m: counts[m] for m in sent} == dict.fromkeys(sent, 0)
            _check_fault_logged(variant, variant_stack, MESSAGES)
            return
        if GC in variant.loses:
            # Collections run every few milliseconds; the loss is measured, not assumed.
            counts = _settled(variant_stack, client)
            lost = [m for m in sent if counts[m] == 0]
            print(f"{variant.name}: {len(lost)} of {len(sent)} lost to garbage collection")
            assert all(counts[m] <= 1 for m in sent), "a message written twice"
            return
        log = wait_for_messages(variant_stack, sent, IDLE_DEADLINE)
        counts = _settled(variant_stack, client)
        assert {m: counts[m] for m in sent} == dict.fromkeys(sent, 1), log[-5:]
        if USE_AFTER_CLEANUP in variant.loses:
            _check_fault_logged(variant, variant_stack, MESSAGES)
        elif variant.fault_log is not None:
            # Declared harmless: the fault it would log did not happen.
            assert variant.fault_log not in variant_stack.output(), output_tail(variant_stack)


def _check_fault_logged(variant: Variant, stack: Stack, at_least: int) -> None:
    assert variant.fault_log is not None, f"{variant.name} declares no fault_log"
    text = variant.fault_log

    def logged_enough() -> bool:
        return stack.output().count(text) >= at_least

    assert wait_until(logged_enough, SETTLE_DEADLINE), (
        f"{text!r} logged {stack.output().count(text)} times, expected {at_least}\n"
        f"{output_tail(stack)}"
    )


def _pending_at_sigterm(variant: Variant, variant_factory: StackFactory) -> tuple[int, int]:
    """Send messages with slow work, SIGTERM the web at once; return (sent, written)."""
    stack = variant_factory({"LOG_DELAY_MS": str(SLOW_MS)})
    with http_client(stack.base_url) as client:
        sent = _sent(variant, client, "sigterm", 5)
    stack["web"].signal(signal.SIGTERM)
    # Uvicorn and gunicorn exit once their work is done or abandoned, within their grace.
    assert stack["web"].wait(60) is not None, output_tail(stack)
    if stack.impl.needs_redis:
        # The work is in Redis, not in the web process: the worker writes it.
        wait_for_messages(stack, sent, SETTLE_DEADLINE)
    counts = Counter(logged(stack))
    return len(sent), sum(1 for m in sent if counts[m])


def test_a_sigterm_loses_what_the_variant_declares(
    variant: Variant, variant_factory: StackFactory
) -> None:
    """SIGTERM with slow work pending in the web process: all of it lost if declared, else none."""
    sent, written = _pending_at_sigterm(variant, variant_factory)
    print(f"{variant.name}: SIGTERM with {sent} pending, {sent - written} lost")
    if SIGTERM in variant.loses:
        assert written == 0, f"declared lost, yet {written} of {sent} written"
    else:
        assert written == sent, f"{sent - written} of {sent} lost"


@pytest.fixture(scope="module")
def slow_worker_stacks(
    impl: Impl,
    tmp_path_factory: pytest.TempPathFactory,
    redis_databases: RedisDatabases | None,
) -> Iterator[Callable[[Variant], Stack]]:
    """A stack for every variant's worker fault: one worker process, slow work.

    One per way of serving (``Impl.serving``), shared by the variants served alike.
    """
    factories: dict[object, tuple[StackFactory, Stack]] = {}
    env = {"LOG_DELAY_MS": str(SLOW_MS), "BGREF_WORKERS": "1"}
    if not impl.replaces_dead_pool_process:
        # The worker stops with its pool process and is started again (below):
        # what the dead process held comes back after the visibility timeout.
        env.update(redelivery_env(impl, VISIBILITY_TIMEOUT_S))

    def stack_for(variant: Variant) -> Stack:
        key = (variant.web_args, variant.worker)
        if key not in factories:
            factory = StackFactory(impl.serving(variant), tmp_path_factory, redis_databases)
            factories[key] = (factory, factory(env))
        return factories[key][1]

    try:
        yield stack_for
    finally:
        for factory, _ in factories.values():
            factory.close()


def test_a_killed_worker_child_loses_what_the_variant_declares(
    impl: Impl, variant: Variant, slow_worker_stacks: Callable[[Variant], Stack]
) -> None:
    """SIGKILL of the worker child running the task: lost if declared, else run again."""
    worker = next(p.name for p in impl.processes if p.ready != "http")
    stack = slow_worker_stacks(variant)
    with http_client(stack.base_url) as client:
        already = stack[worker].output().count(TASK_STARTED)
        [message] = _sent(variant, client, "child-sigkill", 1)
        assert wait_until(
            lambda: stack[worker].output().count(TASK_STARTED) > already, SETTLE_DEADLINE
        ), output_tail(stack)
        children = psutil.Process(stack[worker].pid).children()
        assert children, "the worker has no pool process"
        for child in children:
            os.kill(child.pid, signal.SIGKILL)
        if not impl.replaces_dead_pool_process:
            # The worker stops as a whole, by itself, for its supervisor to start again.
            assert stack[worker].wait(SETTLE_DEADLINE) is not None, output_tail(stack)
            stack.start_process(worker)
        if WORKER_CHILD_SIGKILL in variant.loses:
            _check_fault_logged(variant, stack, 1)
            assert _settled(stack, client)[message] == 0, "declared lost, yet written"
        else:
            wait_for_messages(stack, [message], SETTLE_DEADLINE)
            assert _settled(stack, client)[message] == 1

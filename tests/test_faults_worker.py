"""Fault 3: a worker killed mid-task loses nothing once it runs again; redelivery may duplicate."""

from __future__ import annotations

import os
import signal

import pytest

from bgref_compare import Impl, Stack, broker_idle, redis_call, wait_until
from bgref_compare.faults import WORKERS, Burst, burst_messages, settle, written

from ._faults import busy_pool_child, describe, require_worker
from ._helpers import http_client, send

pytestmark = pytest.mark.faults

BURST = 200
# Killed once this many messages are written: the worker is busy, mid-task.
KILL_AFTER = 20
# Orphaned messages come back after the fault stack's visibility timeout (seconds).
SETTLE = 60.0


def _busy(stack: Stack, messages: list[str]) -> None:
    """Wait until the worker is writing ``messages``."""
    wanted = set(messages)
    assert wait_until(
        lambda: len(wanted.intersection(written(stack.log_path))) >= KILL_AFTER, 30, 0.05
    ), f"the worker wrote fewer than {KILL_AFTER} messages\n{describe(stack)}"


def test_a_killed_worker_loses_nothing_once_restarted(
    impl: Impl, fault_stack: Stack, request: pytest.FixtureRequest
) -> None:
    """SIGKILL of the worker's main process mid-task, then a restart: nothing lost."""
    name = require_worker(impl)
    stack = fault_stack
    messages = burst_messages("sigkill-worker", BURST)
    burst = Burst(stack.base_url, messages).start()
    _busy(stack, messages)
    # The main process alone, as the OOM killer would pick it; its pool is left
    # orphaned until the restart below stops the old process group.
    stack[name].kill()
    answers = burst.join()
    stack.start_process(name)
    ledger = settle(stack, answers, SETTLE)
    ledger.record(request.node.user_properties, "worker SIGKILL")
    # The broker holds the work while no worker runs: every request is taken.
    ledger.check_all_answered()
    # At-least-once: a job written but not yet acknowledged comes back, at most
    # every job that the dead worker's pool processes held.
    ledger.check_consistent(max_duplicated=WORKERS * impl.held_per_worker)
    # Everything the dead worker held comes back after the visibility timeout,
    # including a message it was taking from the queue at the instant it died.
    ledger.check_nothing_lost()


def test_a_message_taken_by_a_consumer_that_died_comes_back(
    impl: Impl, fault_stack: Stack
) -> None:
    """A message taken by a consumer that died before recording it is handed out again, written."""
    name = require_worker(impl)
    if impl.orphan_take is None:
        pytest.skip(f"{impl.id} takes messages into no record of its own (registry: orphan_take)")
    stack = fault_stack
    broker = stack.env["REDIS_URL"]
    message = burst_messages("in-transit", 1)[0]
    stack[name].stop()
    with http_client(stack.base_url) as client:
        assert send(client, message).status_code == 200
    # What a worker that died between taking the message and recording it leaves
    # (the registry's orphan_take: a processing list of its own, a stream group's
    # pending list): the message taken, and no live worker holding it.
    assert redis_call(broker, *impl.orphan_take), "nothing was taken from the queue"
    stack.start_process(name)
    assert wait_until(lambda: message in written(stack.log_path), SETTLE, 0.1), (
        f"the message never came back\n{describe(stack)}"
    )
    assert wait_until(lambda: broker_idle(broker, impl), SETTLE, 0.1)
    assert written(stack.log_path).count(message) == 1


def test_a_killed_pool_process_loses_nothing(
    impl: Impl, fault_stack: Stack, request: pytest.FixtureRequest
) -> None:
    """SIGKILL of one pool process mid-task: the worker replaces it (or restarts), nothing lost."""
    name = require_worker(impl)
    stack = fault_stack
    messages = burst_messages("sigkill-pool", BURST)
    burst = Burst(stack.base_url, messages).start()
    _busy(stack, messages)
    pid = busy_pool_child(stack[name], impl)
    os.kill(pid, signal.SIGKILL)
    answers = burst.join()
    if not impl.replaces_dead_pool_process:
        # The worker stops as a whole, by itself, for its supervisor to start again.
        assert stack[name].wait(SETTLE) is not None, f"still running\n{describe(stack)}"
        stack.start_process(name)
    ledger = settle(stack, answers, SETTLE)
    ledger.record(request.node.user_properties, "pool process SIGKILL")
    assert stack[name].running, f"the worker died with its pool process\n{describe(stack)}"
    ledger.check_all_answered()
    # The job that the killed process held runs again: at most one job's messages twice.
    ledger.check_consistent(max_duplicated=impl.held_per_worker)
    ledger.check_nothing_lost()

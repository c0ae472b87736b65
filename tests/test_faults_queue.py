"""A bounded work queue: full, it refuses with 503; a crash of a web process loses at most it.

And the gunicorn master SIGKILLed alone: its worker processes drain and lose nothing.
"""

from __future__ import annotations

import os
import signal
import time

import httpx
import psutil
import pytest

from bgref_compare import Impl, Stack, wait_until
from bgref_compare.faults import Answer, Burst, Ledger, burst_messages, written

from ._faults import check_refusal, check_unhealthy, describe
from ._helpers import SEND, message_query
from ._stacks import StackFactory

pytestmark = pytest.mark.faults

# Each write holds its worker thread this long, so that a queue filled by a few
# quick requests stays full for seconds.
SLOW_WORK_MS = "2000"
# More requests than one worker and one queued message per process can take.
FILL = 12
# How long /healthz is polled for the 503 of a full process.
FULL_HEALTH = 1.0
# The crash tests: a steady rate with 20 ms of work, killed once this many are acknowledged.
BURST, RATE, KILL_AFTER = 300, 150.0, 60
# The queue of each process in the crash tests: four threads (200 writes a
# second, so that one process keeps up with the rate) and eight waiting.
CRASH_WORKERS, CRASH_QUEUE = 4, 8
# A graceful stop writes what the processes still hold within their 30 s grace.
EXIT_DEADLINE = 40.0


def _web_processes(stack: Stack) -> list[psutil.Process]:
    """The web server's worker processes; skip the test if it runs none."""
    children = psutil.Process(stack["web"].pid).children()
    if not children:
        pytest.skip(f"{stack.impl.id}'s web server runs no worker processes")
    return children


def _queue_env(impl: Impl, workers: int, queue_size: int) -> dict[str, str]:
    """The environment that sizes the work queue; skip the test if the queue is unbounded."""
    if impl.queue_size_env is None or impl.workers_env is None:
        pytest.skip(f"{impl.id} has no bounded work queue")
    return {impl.workers_env: str(workers), impl.queue_size_env: str(queue_size)}


def _drained(stack: Stack) -> None:
    """Stop the web server gracefully: whatever it still holds is written first."""
    web = stack["web"]
    web.signal(signal.SIGTERM)
    assert web.wait(EXIT_DEADLINE) is not None, f"still running after SIGTERM\n{describe(stack)}"


def test_a_full_queue_answers_503_and_writes_nothing_refused(
    impl: Impl, stack_factory: StackFactory, request: pytest.FixtureRequest
) -> None:
    """Full: 503 with a detail and Retry-After, /healthz 503, and the refused never written."""
    env = _queue_env(impl, workers=1, queue_size=1)
    stack = stack_factory({"LOG_DELAY_MS": SLOW_WORK_MS, **env})
    answers: list[Answer] = []
    refusals: list[httpx.Response] = []
    health: httpx.Response | None = None
    # A new connection per request, so that every process gets its share.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=stack.base_url, limits=limits, timeout=10) as client:
        for message in burst_messages("queue-full", FILL):
            sent_at = time.monotonic()
            response = client.post(httpx.URL(SEND, query=message_query(message)))
            now = time.monotonic()
            answers.append(Answer(message, response.status_code, now, now - sent_at))
            if response.status_code != 200:
                refusals.append(response)

        def unhealthy() -> bool:
            nonlocal health
            health = client.get("/healthz")
            return health.status_code == 503

        # Each process reports its own queue: ask until a full one answers.
        full = wait_until(unhealthy, FULL_HEALTH, interval=0.01)
    # Counted now: the server is ready once one of them answers, maybe before all have started.
    processes = len(_web_processes(stack))
    assert refusals, f"{FILL} requests and none refused\n{describe(stack)}"
    for response in refusals:
        check_refusal(response)
    assert full, f"/healthz never said 503 while the queue was full: {health}"
    assert health is not None
    check_unhealthy(health)

    _drained(stack)
    ledger = Ledger.of(answers, written(stack.log_path))
    ledger.record(request.node.user_properties, "queue full")
    # One message running and one waiting per process; the first one is always taken.
    assert len(ledger.acknowledged) <= 2 * processes, f"more taken than the queues hold ({ledger})"
    ledger.check_answered(at_least=1)
    ledger.check_consistent()
    ledger.check_nothing_lost()


def test_a_killed_web_worker_process_loses_at_most_its_queue(
    impl: Impl, stack_factory: StackFactory, request: pytest.FixtureRequest
) -> None:
    """SIGKILL of one web worker process (the OOM killer's pick): it loses at most its queue."""
    env = _queue_env(impl, CRASH_WORKERS, CRASH_QUEUE)
    stack = stack_factory({"LOG_DELAY_MS": "20", **env})
    victim = _web_processes(stack)[0]
    burst = Burst(stack.base_url, burst_messages("kill-web-worker", BURST), rate=RATE).start()
    burst.wait_acknowledged(KILL_AFTER)
    killed_at = time.monotonic()
    os.kill(victim.pid, signal.SIGKILL)
    answers = burst.join()
    _drained(stack)
    ledger = Ledger.of(answers, written(stack.log_path))
    ledger.record(request.node.user_properties, "web worker process SIGKILL")
    # A busy machine can fill a queue before the kill: its 503s are the
    # contract's answer, and check_consistent holds them to "never written".
    ledger.check_answered(at_least=KILL_AFTER, before=killed_at, refusals=True)
    ledger.check_consistent()
    held = CRASH_WORKERS + CRASH_QUEUE
    assert len(ledger.lost) <= held, f"lost more than one process's queue of {held} ({ledger})"


def test_a_killed_gunicorn_master_alone_loses_nothing(
    fault_stack: Stack, request: pytest.FixtureRequest
) -> None:
    """SIGKILL of the web server's master alone: its worker processes drain, nothing is lost."""
    # The shared fault stack: nothing to start for a server without worker
    # processes, and the next test starts the web again (the port is free once
    # the orphaned workers have exited, which this test waits for).
    stack = fault_stack
    workers = _web_processes(stack)
    burst = Burst(stack.base_url, burst_messages("kill-web-master", BURST), rate=RATE).start()
    burst.wait_acknowledged(KILL_AFTER)
    killed_at = time.monotonic()
    stack["web"].kill()
    answers = burst.join()
    _, alive = psutil.wait_procs(workers, timeout=EXIT_DEADLINE)
    assert not alive, f"worker processes outlived their master: {alive}\n{describe(stack)}"
    ledger = Ledger.of(answers, written(stack.log_path))
    ledger.record(request.node.user_properties, "web master SIGKILL")
    ledger.check_answered(at_least=KILL_AFTER, before=killed_at)
    ledger.check_consistent()
    ledger.check_nothing_lost()

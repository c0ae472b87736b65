"""The fault tests' own parts: their shared stack, their skips and their checks of answers.

The toolkit itself (bursts, the ledger, settling, finding a busy pool process,
the fault environment) is ``bgref_compare.faults``, which the harness uses too.
"""

from __future__ import annotations

from functools import partial

import httpx
import pytest

from bgref_compare import Impl, ManagedProcess, Stack
from bgref_compare.faults import busy_pool_process, fault_env, pool_children

from ._helpers import assert_json, output_tail
from ._stacks import STACKS, RedisDatabases

__all__ = [
    "busy_pool_child",
    "check_refusal",
    "check_unhealthy",
    "describe",
    "require_broker",
    "require_worker",
    "shared_fault_stack",
]

_FAULT_STACK = pytest.StashKey[Stack]()


def check_refusal(response: httpx.Response) -> None:
    """A ``503`` that says why in a JSON ``detail`` and when to retry (``Retry-After``)."""
    assert response.status_code == 503, f"{response.status_code}: {response.text}"
    body = assert_json(response)
    assert isinstance(body, dict), body
    assert isinstance(body.get("detail"), str), body
    assert body["detail"], body
    assert response.headers.get("retry-after", "").isdigit(), dict(response.headers)


def check_unhealthy(response: httpx.Response) -> None:
    """``/healthz`` answering ``503 {"status": "unavailable", "detail": <reason>}``."""
    assert response.status_code == 503, f"{response.status_code}: {response.text}"
    body = assert_json(response)
    assert isinstance(body, dict), body
    assert body.get("status") == "unavailable", body
    assert isinstance(body.get("detail"), str), body
    assert body["detail"], body


def shared_fault_stack(
    request: pytest.FixtureRequest,
    impl: Impl,
    tmp_path_factory: pytest.TempPathFactory,
    databases: RedisDatabases | None,
) -> Stack:
    """The session's stack for fault tests: 20 ms of work, orphaned messages back in seconds.

    A stack takes seconds to start (ten for Celery on a busy machine), more than
    most faults take, so the fault tests share one. A test leaves it as it found
    it or stops or kills a process; a process found not running is started again
    here, before the next test gets the stack. Each test isolates its messages by
    a label of its own. The log is in a folder of its own, which may disappear.
    """
    stack = request.config.stash.get(_FAULT_STACK, None)
    if stack is None:
        workdir = tmp_path_factory.mktemp(f"{impl.id}-faults")
        (workdir / "logs").mkdir()
        stack = Stack(
            impl,
            workdir,
            env=fault_env(impl),
            redis_url=databases.allocate() if databases is not None else None,
            log_path=workdir / "logs" / "log.txt",
        )
        request.config.stash[_FAULT_STACK] = stack
        # A finalizer of the session runs before those of the session's fixtures,
        # so the stack stops while its Redis still runs. Killed, with no grace
        # period, as StackFactory.close() does: the suite is done with it.
        request.session.addfinalizer(partial(stack.stop, timeout=0))
        stack.start()
    else:
        for spec in impl.processes:
            proc = stack.processes.get(spec.name)
            if proc is None or not proc.running:
                stack.start_process(spec.name)
    # A failing test's report ends with the output of the stacks it used.
    request.node.stash.setdefault(STACKS, []).append(stack)
    return stack


def require_broker(impl: Impl) -> None:
    """Skip the test unless the implementation queues its work in a broker."""
    if not impl.needs_redis:
        pytest.skip(f"{impl.id} has no broker: its work never leaves the web process")


def require_worker(impl: Impl) -> str:
    """The name of the process that does the work; skip the test if the web process does it."""
    if len(impl.processes) < 2:
        pytest.skip(f"{impl.id} has no worker process: the web process does the work")
    return impl.processes[1].name


def busy_pool_child(worker: ManagedProcess, impl: Impl, timeout: float = 10.0) -> int:
    """A pool process of ``worker`` that is mid-task; fail the test if none is seen in time.

    Skip the test if the worker is declared to run its tasks without a pool
    (``Process.pool``); fail it if one declared with a pool has none.
    """
    declared = next(p for p in impl.processes if p.name == worker.name)
    if not declared.pool:
        pytest.skip(f"the {worker.name} process runs its tasks in threads: no pool process")
    assert pool_children(worker), f"the {worker.name} process runs no pool processes"
    pid = busy_pool_process(worker, timeout, impl.mid_task_wchan)
    if pid is None:
        pytest.fail(f"no pool process of {worker.name} was seen mid-task within {timeout} s")
    return pid


def describe(stack: Stack) -> str:
    """The end of the stack's output, for an assertion message."""
    return output_tail(stack, 4000)

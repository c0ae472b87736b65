"""Grouped jobs: what a worker queue promises about a job that carries many messages.

The web front of each worker queue sends the messages of concurrent requests
as one job (up to ``Impl.messages_per_job``), and its worker writes them in
order. Two promises follow, each checked here from outside: a write that fails
part-way through a job has only the messages not yet written retried (none
lost, none written twice), and a job whose writes are slow does not hold one
worker while the others idle (``Impl.slow_groups``: its rest is handed to the
other workers, or its writes await at once). Each test sends its burst with
Redis frozen (``_groups.send_in_few_jobs``), so that the burst is a few full
jobs rather than whatever the requests' timing makes of it. Implementations
that carry one message per job have neither promise to keep.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bgref_compare import Impl, RedisServer, Stack, wait_until
from bgref_compare.faults import burst_messages, failures_naming, settle, written

from ._faults import describe, require_broker
from ._groups import Writers, send_in_few_jobs
from ._helpers import token
from ._stacks import StackFactory

pytestmark = pytest.mark.faults

# Worker processes of the failing-write test: two, each part-way through a job.
WORKERS = 2
# Fast enough that a worker writes most of a job before its first hand-off
# (after 0.2 s), slow enough that the log breaks while both are part-way.
FAULT_DELAY_MS = 10
# Where a job's writes await at once (slow_groups "concurrent"), they land
# together: no moment falls part-way through a job, so the log breaks while
# the jobs' writes wait, long before they land, and whole jobs are retried.
LANDS_TOGETHER_DELAY_MS = 500
# How long a failed write may take to show in the output, and the retried ones to land.
NOTICED = 10.0
SETTLE = 30.0
# The slow job's writes, and workers enough that sharing it out takes a
# fraction of the time one worker would; each write long beside a worker's
# bookkeeping per job.
SLOW_DELAY_MS = 100
SLOW_WORKERS = 4


def _grouped(impl: Impl) -> int:
    """How many messages one job carries; skip the test where it is one."""
    if impl.messages_per_job == 1:
        pytest.skip(f"{impl.id} carries one message per job (registry: messages_per_job)")
    return impl.messages_per_job


def _workers_env(impl: Impl) -> str:
    if impl.workers_env is None:
        pytest.skip(f"{impl.id} has no setting for its number of workers")
    return impl.workers_env


@pytest.fixture
def broker(impl: Impl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis of the test's own, which it freezes; requested first, it stops last."""
    require_broker(impl)
    with RedisServer(tmp_path_factory.mktemp("broker")) as server:
        yield server


def _make_directory(log: Path) -> list[Path]:
    """The log path becomes a directory; return where the old log files went, if any.

    A writer that looks at the path between the rename and the mkdir creates
    a new file there (with a line or two in it): that one goes aside as well.
    """
    kept: list[Path] = []
    while True:
        aside = log.with_name(f"{log.name}.{token()[:8]}")
        with contextlib.suppress(FileNotFoundError):  # nothing written yet
            log.rename(aside)
            kept.append(aside)
        try:
            log.mkdir()
        except FileExistsError:
            continue
        return kept


def _stopped(stack: Stack) -> list[str]:
    """The names of the stack's processes that are not running."""
    return [name for name, proc in stack.processes.items() if not proc.running]


def test_a_write_that_fails_mid_group_retries_only_the_rest(
    impl: Impl, broker: RedisServer, stack_factory: StackFactory, request: pytest.FixtureRequest
) -> None:
    """The log turns unwritable while jobs are part-way written: each message lands once.

    No process dies, so nothing may be written twice: a retry of the whole job
    would write again the messages written before the failure, and one that
    skipped the failed message would lose it. The burst is two full jobs and
    one more message; the log breaks once a quarter of a job is written, with
    both workers part-way through their jobs (where a job's writes land
    together, while they wait: see ``LANDS_TOGETHER_DELAY_MS``).
    """
    group = _grouped(impl)
    together = impl.slow_groups == "concurrent"
    delay = LANDS_TOGETHER_DELAY_MS if together else FAULT_DELAY_MS
    stack = stack_factory(
        {"LOG_DELAY_MS": str(delay), _workers_env(impl): str(WORKERS)}, redis_url=broker.url
    )
    log = stack.log_path
    messages = burst_messages("mid-group", 2 * group + 1)
    # Answered once Redis holds the jobs, whatever the workers have written.
    answers = send_in_few_jobs(stack, broker, messages).join()
    sent = set(messages)
    started = 0 if together else group // 4
    assert wait_until(lambda: len(sent.intersection(written(log))) >= started, SETTLE), (
        f"fewer than {started} messages written within {SETTLE} s\n{describe(stack)}"
    )
    kept = _make_directory(log)
    try:
        done = len(sent.intersection(written(*kept)))
        assert done < len(sent), f"the burst was written before the log broke ({done})"
        assert wait_until(lambda: failures_naming(stack, log) > 0, NOTICED), (
            f"no failed write reported with the path {log}\n{describe(stack)}"
        )
    finally:
        log.rmdir()

    ledger = settle(stack, answers, SETTLE, paths=kept)
    ledger.record(request.node.user_properties, "unwritable log mid-group")
    request.node.user_properties.append(("written_before_fault", done))
    request.node.user_properties.append(("failures_logged", failures_naming(stack, log)))

    assert not _stopped(stack), f"processes died: {_stopped(stack)}\n{describe(stack)}"
    ledger.check_all_answered()
    ledger.check_consistent()
    ledger.check_nothing_lost()


def test_a_slow_group_is_shared_out(
    impl: Impl, broker: RedisServer, stack_factory: StackFactory, request: pytest.FixtureRequest
) -> None:
    """A job of slow writes is written in well under the time one worker would take.

    The burst is one job's worth and one message more, sent as at most two
    jobs (one of them at least half the burst). Written one after another by
    the worker that took it, the bigger job alone takes half the burst's
    ``messages × delay``: the burst must be written in less (four workers
    sharing it out take about a quarter, plus the first slice). Where a job's
    rest is handed off (``slow_groups``), more processes than jobs must have
    written the burst, so that one job was written by more than one of them;
    where a job's writes await at once, or its worker's threads share one
    descriptor (a pool of threads), the time alone tells.
    """
    group = _grouped(impl)
    if impl.slow_groups is None:
        pytest.skip(f"{impl.id} declares no way to share out a slow job (slow_groups)")
    stack = stack_factory(
        {"LOG_DELAY_MS": str(SLOW_DELAY_MS), _workers_env(impl): str(SLOW_WORKERS)},
        redis_url=broker.url,
    )
    messages = burst_messages("slow-group", group + 1)
    burst = send_in_few_jobs(stack, broker, messages)
    thawed = time.monotonic()
    writers = Writers(stack)
    sent = set(messages)

    def all_written() -> bool:
        writers.sample()
        return sent <= set(written(stack.log_path))

    assert wait_until(all_written, SETTLE, interval=0.005), (
        f"the burst was not written within {SETTLE} s\n{describe(stack)}"
    )
    took = time.monotonic() - thawed
    one_job_alone = len(messages) * SLOW_DELAY_MS / 1000 / 2
    ledger = settle(stack, burst.join(), SETTLE)
    lines = Counter(writers.of(sent).values())
    ledger.record(request.node.user_properties, "slow group")
    request.node.user_properties.extend(
        [("took_s", round(took, 3)), ("bound_s", one_job_alone), ("writers", len(lines))]
    )

    ledger.check_all_answered()
    ledger.check_consistent()
    ledger.check_nothing_lost()
    assert took < one_job_alone, (
        f"{len(messages)} writes of {SLOW_DELAY_MS} ms took {took:.2f} s after the thaw, "
        f"the bigger job alone {one_job_alone:.2f} s: not shared out (lines by process: {lines})"
    )
    if impl.slow_groups == "hand-off" and impl.pool_workers:
        assert len(lines) > 2, f"no job was written by more than one process: {dict(lines)}"

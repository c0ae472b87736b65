"""The fault scenarios: a burst of messages, a fault injected mid-burst, and the accounting."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from bgref_compare._profile import Profile
from bgref_compare._results import Failure
from bgref_compare.faults import fault_env, recycle_env, wait_written
from bgref_compare.loadgen._accounting import count_messages
from bgref_compare.loadgen._bench import Bench, RunningStack
from bgref_compare.registry import Impl
from bgref_compare.stack._polling import wait_until

from ._faultload import Bystander, FaultBurst
from ._faultmatrix import FaultRow, fault_row
from ._paths import DEFAULT_VARIANT, SEND_PATH
from ._step import Step, impl_steps
from ._strikes import PAST_BOUND_S, RETRY_BOUND_S, STOPS, Fault, fault_kinds

__all__ = ["FaultSink", "applicable_faults", "plan_fault_steps", "run_faults"]

# Without a retrying queue, the log is complete once it stopped growing this long.
QUIET_S = 1.0
# The web server's processes are recycled after about this many requests.
RECYCLE_AFTER = 50


@dataclass
class FaultSink:
    """Where the fault scenarios put their rows, and the faults that could not be measured."""

    rows: list[FaultRow] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def applicable_faults(impl: Impl, wanted: Sequence[str] = ()) -> list[str]:
    """The faults that apply to ``impl`` (of ``wanted``, if not empty), in running order."""
    names = [
        "unwritable-log",
        "unwritable-log-long",
        *(["broker-frozen", "broker-down"] if impl.needs_redis else []),
        *(["pool-child-crash"] if impl.pool_workers else []),
        *(["worker-crash", "worker-stop"] if len(impl.processes) > 1 else []),
        *(["recycling"] if impl.recycle_env else []),
        # The web server's faults last: each one needs a restart afterwards.
        "web-crash",
        "graceful-stop",
    ]
    return [n for n in names if not wanted or n in wanted]


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


def _revive(running: RunningStack) -> None:
    """Start again whatever a fault stopped: the broker first, then the processes in order."""
    if running.redis is not None and not running.redis.process.running:
        running.redis.restart()
    for spec in running.impl.processes:
        proc = running.stack.processes.get(spec.name)
        if proc is None or not proc.running:
            running.stack.start_process(spec.name)


def _settle(
    running: RunningStack,
    statuses: Sequence[int],
    paths: Sequence[Path],
    prefix: str,
    timeout: float,
) -> Counter[int]:
    """Wait until the acknowledged work is written and the broker idle; return the logs' counts.

    The logs are the stack's and ``paths``. Without a retrying queue (or with
    a process of it dead) a failed write is gone for good: once the log has
    stopped growing for ``QUIET_S``, it holds everything it will. linelog's
    retry (``holds_writes``) writes held lines within a backoff step (0.25 s)
    of the path coming back, which happened before this wait.
    """
    acked = {f"{prefix}{seq}" for seq, status in enumerate(statuses) if status == 200}
    messages = wait_written(
        running.stack, acked, timeout, paths=paths, quiet=QUIET_S, interval=0.2
    )
    return count_messages(messages, prefix)[0]


def _strike_once(
    bench: Bench,
    profile: Profile,
    running: RunningStack,
    name: str,
    fault: Fault,
    variant: tuple[str, str] = ("default", SEND_PATH),
) -> FaultRow:
    burst = FaultBurst(bench, running, profile, name, variant[1])
    before = _lines(running.log_path)
    output = running.stack.output()
    burst.start()
    # Mid-burst: once a quarter of the burst is in the log, or half its time is gone.
    quarter = max(1, profile.fault_burst // 4)
    wait_until(
        lambda: _lines(running.log_path) - before >= quarter or not burst.alive,
        burst.seconds / 2 + 5,
        interval=0.01,
    )
    bystander = (
        Bystander(running.stack.port, profile.request_timeout_s).start()
        if fault.bystanders
        else None
    )
    try:
        fault.strike(running)
    finally:
        # Also when the fault could not be injected: no burst outlives its fault.
        bystander_ms = bystander.stop() if bystander is not None else None
        statuses, elapsed = burst.join()
    fault.after(running)
    # Besides the stack's own log.
    paths = fault.logs(running)
    counts = _settle(running, statuses, paths, burst.prefix, profile.fault_settle_s)
    meant = STOPS.get(name, ())
    exited = [
        proc.name
        for proc in running.stack.processes.values()
        if not proc.running and proc.name not in meant
    ]
    if exited and running.impl.survives_web_crash:
        # A process that died of the fault (kombu's worker can exit when Redis
        # dies) is started again, as a supervisor would; with a durable queue
        # its work is still there, so count what the restarted stack writes.
        _revive(running)
        counts = _settle(running, statuses, paths, burst.prefix, profile.fault_settle_s)
    row = fault_row(running.impl.id, name, statuses, elapsed, counts)
    # The pitfall-lab variant whose route the burst went to (_variantfaults).
    row["variant"] = variant[0]
    if bystander is not None:
        row["bystander_ms"] = bystander_ms
    fault.expect(running, row, output, burst.prefix)
    if exited:
        row["exited"] = exited
        row["restarted"] = running.impl.survives_web_crash
    return row


@contextlib.contextmanager
def _fault_stack(
    bench: Bench, profile: Profile, impl: Impl, env: dict[str, str] | None = None
) -> Iterator[RunningStack]:
    # Always a private, durable Redis: the broker faults kill it and must find the
    # queue still there; REDIS_URL's server is not ours to kill.
    own = fault_env(impl, delay_ms=profile.fault_delay_ms, retry_bound_s=RETRY_BOUND_S)
    with bench.stack(
        impl,
        delay_ms=profile.fault_delay_ms,
        env={**own, **(env or {})},
        private_redis=True,
        durable_redis=True,
    ) as running:
        yield running


def run_faults(bench: Bench, profile: Profile, impl: Impl, sink: FaultSink) -> None:
    """Run every applicable fault against ``impl``; add a row (or a failure) for each."""
    faults = fault_kinds(profile)
    names = applicable_faults(impl, profile.fault_names)
    shared = [n for n in names if n != "recycling"]
    recycle = recycle_env(impl, RECYCLE_AFTER)
    if "recycling" in names and recycle is not None:
        _guarded(sink, impl, "recycling", lambda: _recycling(bench, profile, impl, recycle))
    if not shared:
        return
    with _fault_stack(bench, profile, impl) as running:
        for i, name in enumerate(shared):

            def one(name: str = name) -> FaultRow:
                return _strike_once(bench, profile, running, name, faults[name])

            _guarded(sink, impl, name, one)
            if i < len(shared) - 1:
                _revive(running)


def _recycling(bench: Bench, profile: Profile, impl: Impl, env: dict[str, str]) -> FaultRow:
    with _fault_stack(bench, profile, impl, env) as running:
        return _strike_once(bench, profile, running, "recycling", Fault(lambda running: None))


def _guarded(sink: FaultSink, impl: Impl, name: str, run: Callable[[], FaultRow]) -> None:
    # One fault that cannot be measured must not cost the others their rows.
    try:
        sink.rows.append(run())
    except Exception as exc:
        sink.failures.append(
            {
                "impl": impl.id,
                "variant": name,
                "scenario": "faults",
                "error": f"{type(exc).__name__}: {exc}"[:4000],
            }
        )


def plan_fault_steps(
    bench: Bench,
    profile: Profile,
    impls: Sequence[Impl],
    scenarios: Sequence[str],
    sink: FaultSink,
) -> list[Step]:
    """One step per implementation running its faults, when ``faults`` is among ``scenarios``."""
    if "faults" not in scenarios:
        return []
    return impl_steps(
        "faults",
        DEFAULT_VARIANT,
        impls,
        partial(_fault_seconds, profile),
        lambda impl: run_faults(bench, profile, impl, sink),
    )


def _fault_seconds(profile: Profile, impl: Impl) -> float:
    """About how long ``impl``'s faults take (0 when none applies), for the progress estimate."""
    names = applicable_faults(impl, profile.fault_names)
    if not names:
        return 0.0
    per_fault = profile.fault_burst / profile.fault_rate + 2 * profile.fault_outage_s + 2.0
    seconds = (5.0 if impl.needs_redis else 1.5) + len(names) * per_fault
    if "unwritable-log-long" in names:
        seconds += RETRY_BOUND_S + PAST_BOUND_S
    return seconds

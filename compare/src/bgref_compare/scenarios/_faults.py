"""The fault scenarios: a burst of messages, a fault injected mid-burst, and the accounting."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bgref_compare._profile import Profile
from bgref_compare._results import Failure, Run
from bgref_compare.faults import (
    SEND_PATH,
    busy_pool_process,
    fault_env,
    pool_children,
    recycle_env,
    wait_written,
    written,
)
from bgref_compare.loadgen._accounting import count_messages
from bgref_compare.loadgen._bench import Bench, RunningStack, new_run_id
from bgref_compare.loadgen._loadgen import LoadSpec, Phase
from bgref_compare.registry import Impl
from bgref_compare.stack._polling import wait_until

from ._faultmatrix import FaultRow, fault_row
from ._scenarios import Step

__all__ = ["FaultSink", "applicable_faults", "plan_fault_steps", "run_faults"]

# A graceful stop must end well inside the servers' 30 s grace period.
EXIT_DEADLINE_S = 40.0
# Without a retrying queue, the log is complete once it stopped growing this long.
QUIET_S = 1.0
# The web server's processes are recycled after about this many requests.
RECYCLE_AFTER = 50
# How long linelog holds a line it cannot write (LOG_RETRY_SECONDS), in the
# approaches that hold writes: longer than the unwritable-log outage, so that
# nothing is lost, and short enough for the longer outage to outlast it.
RETRY_BOUND_S = 5.0
# The longer outage lasts the rest of the burst plus the bound plus this margin.
PAST_BOUND_S = 1.5
# During a broker fault, the endpoints that never touch the broker are asked this often.
BYSTANDER_INTERVAL_S = 0.02


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
        *(["pool-child-crash", "worker-crash", "worker-stop"] if len(impl.processes) > 1 else []),
        *(["recycling"] if impl.recycle_env else []),
        # The web server's faults last: each one needs a restart afterwards.
        "web-crash",
        "graceful-stop",
    ]
    return [n for n in names if not wanted or n in wanted]


def _counts(paths: Sequence[Path], prefix: str) -> Counter[int]:
    return count_messages(written(*paths), prefix)[0]


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


class _Burst:
    """The load generator's open-loop burst, in a thread so that a fault can strike meanwhile."""

    def __init__(self, bench: Bench, running: RunningStack, profile: Profile, label: str) -> None:
        self.seconds = profile.fault_burst / profile.fault_rate
        phase = Phase(
            label,
            SEND_PATH,
            self.seconds,
            concurrency=32,
            rate=profile.fault_rate,
            writes=True,
            drain=False,
        )
        self.spec = LoadSpec(
            "127.0.0.1",
            running.stack.port,
            new_run_id(),
            (phase,),
            cpu=bench.cpus.loadgen,
            timeout_s=profile.request_timeout_s,
            per_request=True,
        )
        self.prefix = f"{self.spec.run_id}-"
        self._bench = bench
        self._timeout = self.seconds * 3 + profile.request_timeout_s + 60
        self._data: dict[str, Any] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fault-burst", daemon=True)

    def _run(self) -> None:
        try:
            self._data = self._bench.run_loadgen(self.spec, timeout=self._timeout)
        except BaseException as exc:  # handed over in join()
            self._error = exc

    def start(self) -> _Burst:
        """Start the burst; return at once."""
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        """Whether the burst is still sending or waiting for answers."""
        return self._thread.is_alive()

    def join(self) -> tuple[list[int], list[float | None]]:
        """Wait for the last answer; return every request's status and answer time (ms)."""
        self._thread.join(self._timeout + 10)
        if self._error is not None:
            raise self._error
        per_request = self._data["per_request"]
        return list(per_request["status"]), list(per_request["elapsed_ms"])


class _Bystander:
    """``/baseline/`` and ``/healthz``, one after the other every 20 ms while a fault lasts.

    Neither touches the broker, so neither should wait while it is away: a web
    front that talks to the broker from its event loop stops them too (issue
    18). The slowest answer says whether it does.
    """

    _REQUESTS = (("POST", "/baseline/?message=bystander"), ("GET", "/healthz"))

    def __init__(self, port: int, timeout: float) -> None:
        self._port = port
        self._timeout = timeout
        self._slowest: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-bystander", daemon=True)

    def start(self) -> _Bystander:
        """Start asking; return at once."""
        self._thread.start()
        return self

    @property
    def slowest(self) -> float | None:
        """The slowest answer so far, in milliseconds (None before the first)."""
        return None if self._slowest is None else round(self._slowest * 1000, 1)

    def stop(self) -> float | None:
        """Stop asking; return the slowest answer in milliseconds (None if none came)."""
        self._stop.set()
        self._thread.join(self._timeout + 5)
        return self.slowest

    def _run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=self._timeout)
        due = time.monotonic()
        try:
            while not self._stop.is_set():
                for method, path in self._REQUESTS:
                    started = time.monotonic()
                    try:
                        connection.request(method, path)
                        connection.getresponse().read()
                    except (OSError, http.client.HTTPException):
                        # No answer at all: counted as waited for, and a new connection.
                        connection.close()
                    elapsed = time.monotonic() - started
                    self._slowest = max(elapsed, self._slowest or 0.0)
                due += BYSTANDER_INTERVAL_S
                self._stop.wait(max(0.0, due - time.monotonic()))
        finally:
            connection.close()


@dataclass
class _Fault:
    """How one fault strikes a running stack and how the stack is made whole again."""

    strike: Callable[[RunningStack], None]
    # Runs once the burst is over (the fault may have lasted until then).
    after: Callable[[RunningStack], None] = lambda running: None
    # Log files besides the stack's own that may hold the burst's messages.
    logs: Callable[[RunningStack], list[Path]] = lambda running: []
    # Checks the row against what the approach declares it loses to this fault,
    # given the stack's output from before the fault and the burst's message
    # prefix; raises if it differs.
    expect: Callable[[RunningStack, FaultRow, str, str], None] = lambda *args: None
    # The endpoints that do not use what the fault breaks are watched meanwhile.
    bystanders: bool = False


# The processes each fault stops on purpose (and that need not be found running afterwards).
_STOPS = {"graceful-stop": ("web",), "web-crash": ("web",)}


def _sigterm_web(running: RunningStack) -> None:
    running.stack["web"].signal(signal.SIGTERM)


def _wait_web_exit(running: RunningStack) -> None:
    if running.stack["web"].wait(EXIT_DEADLINE_S) is None:
        raise RuntimeError(f"web still running {EXIT_DEADLINE_S:.0f} s after SIGTERM")


def _sigkill_web(running: RunningStack) -> None:
    # The whole process group, as an OOM kill of a container or a power cut would.
    running.stack["web"].signal(signal.SIGKILL, group=True)


def _worker_name(running: RunningStack) -> str:
    return running.impl.processes[1].name


def _kill_worker(outage: float) -> Callable[[RunningStack], None]:
    def strike(running: RunningStack) -> None:
        # The main process alone, as the OOM killer would pick it; its pool is
        # orphaned until the restart stops the old process group.
        name = _worker_name(running)
        running.stack[name].kill()
        time.sleep(outage)
        running.stack.start_process(name)

    return strike


def _stop_worker(outage: float) -> Callable[[RunningStack], None]:
    def strike(running: RunningStack) -> None:
        # A warm shutdown: the worker finishes its tasks in hand, then a new one starts.
        name = _worker_name(running)
        worker = running.stack[name]
        worker.signal(signal.SIGTERM)
        if worker.wait(EXIT_DEADLINE_S) is None:
            raise RuntimeError(f"{name} still running {EXIT_DEADLINE_S:.0f} s after SIGTERM")
        time.sleep(outage)
        running.stack.start_process(name)

    return strike


def _kill_pool_child(running: RunningStack) -> None:
    # A pool process asleep in the simulated work if one is seen in time, else any.
    worker = running.stack[_worker_name(running)]
    children = pool_children(worker)
    if not children:
        raise RuntimeError("the worker runs no pool processes")
    os.kill(busy_pool_process(worker, timeout=2.0) or children[0], signal.SIGKILL)


def _broker(running: RunningStack) -> Any:
    if running.redis is None:
        raise RuntimeError("the broker faults need a private Redis")
    return running.redis


def _broker_down(outage: float) -> Callable[[RunningStack], None]:
    def strike(running: RunningStack) -> None:
        redis = _broker(running)
        redis.kill()
        time.sleep(outage)
        redis.restart()

    return strike


def _broker_frozen(outage: float) -> Callable[[RunningStack], None]:
    def strike(running: RunningStack) -> None:
        redis = _broker(running)
        redis.pause()
        time.sleep(outage)
        redis.resume()

    return strike


def _aside(running: RunningStack) -> Path:
    return running.log_path.with_name(running.log_path.name + ".aside")


def _unwritable_log(outage: float) -> Callable[[RunningStack], None]:
    def strike(running: RunningStack) -> None:
        # The log path becomes a directory; the old log is kept aside for the accounting.
        log = running.log_path
        log.rename(_aside(running))
        log.mkdir()
        time.sleep(outage)
        log.rmdir()

    return strike


# linelog's report at the end of an episode that lost lines (_backlog.py).
_LOST_REPORT = r"(\d+) lines not written to {path}: beyond the retry bound"


def _expect_bounded_loss(running: RunningStack, row: FaultRow, before: str, prefix: str) -> None:
    """Past the bound, every held line is lost, and the writers count exactly those."""
    if not running.impl.holds_writes:
        # The queue's retry has no bound: nothing may be lost.
        if row["lost"]:
            raise RuntimeError(f"lost {row['lost']} past the outage, expected none")
        return
    report = re.compile(_LOST_REPORT.format(path=re.escape(str(running.log_path))))
    output = running.stack.output()
    counted = sum(map(int, report.findall(output))) - sum(map(int, report.findall(before)))
    # The path came back after every held line had expired: none of them may be in the new file.
    late = _counts([running.log_path], prefix)
    if counted != row["lost"] or late:
        raise RuntimeError(
            f"the bound declares {counted} lost (linelog's reports) and none written late;"
            f" the log shows {row['lost']} lost and {sum(late.values())} written late"
        )


def _faults(profile: Profile) -> dict[str, _Fault]:
    outage = profile.fault_outage_s
    # Held lines expire RETRY_BOUND_S after their write failed: wait that long after the last one.
    past_bound = profile.fault_burst / profile.fault_rate + RETRY_BOUND_S + PAST_BOUND_S
    return {
        "graceful-stop": _Fault(_sigterm_web, after=_wait_web_exit),
        "web-crash": _Fault(_sigkill_web),
        "worker-crash": _Fault(_kill_worker(outage)),
        "worker-stop": _Fault(_stop_worker(outage)),
        "pool-child-crash": _Fault(_kill_pool_child),
        "broker-down": _Fault(_broker_down(outage), bystanders=True),
        "broker-frozen": _Fault(_broker_frozen(outage), bystanders=True),
        "unwritable-log": _Fault(_unwritable_log(outage), logs=lambda r: [_aside(r)]),
        "unwritable-log-long": _Fault(
            _unwritable_log(past_bound), logs=lambda r: [_aside(r)], expect=_expect_bounded_loss
        ),
        "recycling": _Fault(lambda running: None),
    }


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
    bench: Bench, profile: Profile, running: RunningStack, name: str, fault: _Fault
) -> FaultRow:
    burst = _Burst(bench, running, profile, name)
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
        _Bystander(running.stack.port, profile.request_timeout_s).start()
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
    meant = _STOPS.get(name, ())
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
    faults = _faults(profile)
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
        return _strike_once(bench, profile, running, "recycling", _Fault(lambda running: None))


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
    steps = []
    for impl in impls:
        names = applicable_faults(impl, profile.fault_names)
        if not names:
            continue
        per_fault = profile.fault_burst / profile.fault_rate + 2 * profile.fault_outage_s + 2.0
        seconds = (5.0 if impl.needs_redis else 1.5) + len(names) * per_fault
        if "unwritable-log-long" in names:
            seconds += RETRY_BOUND_S + PAST_BOUND_S

        def run(impl: Impl = impl) -> list[Run]:
            run_faults(bench, profile, impl, sink)
            return []

        steps.append(Step("faults", impl.id, "default", f"faults · {impl.id}", seconds, run))
    return steps

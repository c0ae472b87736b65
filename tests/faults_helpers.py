"""Tools of the fault tests: bursts of requests, their ledger, a broker of their own, raw Redis."""

from __future__ import annotations

import asyncio
import platform
import re
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from bgref_compare import (
    Impl,
    ManagedProcess,
    RedisReplyError,
    Stack,
    broker_idle,
    redis_call,
    wait_until,
)
from bgref_linelog import read_messages

from ._helpers import SEND, assert_json, message_query, output_tail, token
from ._stacks import STACKS, RedisDatabases

__all__ = [
    "NO_ANSWER",
    "Answer",
    "Burst",
    "Ledger",
    "RedisReplyError",
    "broker_idle",
    "burst_messages",
    "busy_pool_process",
    "check_refusal",
    "check_unhealthy",
    "describe",
    "failures_naming",
    "listening_addresses",
    "pool_children",
    "recycle_env",
    "redelivery_env",
    "redis_call",
    "require_broker",
    "require_worker",
    "settle",
    "shared_fault_stack",
    "written",
]

# A request that got no HTTP answer at all (refused connection, reset, timeout).
NO_ANSWER = 0
# The simulated work: 20 ms before each write.
DELAY_MS = "20"
# How long unacknowledged broker messages wait before they are handed out again.
VISIBILITY_TIMEOUT = 3.0
# Background workers where the approach has that knob: enough to keep up with a burst.
WORKERS = "4"

_FAULT_STACK = pytest.StashKey[Stack]()
# linelog's report of a failed batch: "<n> queued lines were not written".
_BATCH_FAILURE = re.compile(r"(\d+) queued lines were not written")


@dataclass(frozen=True)
class Answer:
    """What one request of a burst got back, and when (``time.monotonic()``)."""

    message: str
    status: int
    answered_at: float
    elapsed: float


def burst_messages(label: str, count: int) -> list[str]:
    """``count`` distinct messages of one run, numbered so that a lost one is easy to name."""
    run = token()[:12]
    return [f"{label} {run} {i:04d}" for i in range(count)]


class Burst:
    """POSTs messages to ``/send-message/`` from a background thread, many at a time.

    The test thread stays free to inject a fault once enough answers have come
    back (``wait_acknowledged``). ``rate`` paces the requests (per second), so
    that the age of every acknowledgement at the moment of a fault is known.
    """

    def __init__(
        self,
        base_url: str,
        messages: Sequence[str],
        *,
        concurrency: int = 16,
        rate: float | None = None,
        timeout: float = 10.0,
        keepalive: bool = True,
    ) -> None:
        self.base_url = base_url
        self.messages = list(messages)
        self.concurrency = concurrency
        self.rate = rate
        self.timeout = timeout
        self.keepalive = keepalive
        self.answers: list[Answer] = []
        self._acknowledged = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="burst", daemon=True)
        self._error: BaseException | None = None

    def start(self) -> Burst:
        """Start sending; return at once."""
        self._thread.start()
        return self

    def wait_acknowledged(self, count: int, timeout: float = 30.0) -> None:
        """Block until ``count`` requests got a 200 (fail the test if they never do)."""
        with self._cond:
            if not self._cond.wait_for(
                lambda: self._acknowledged >= count or not self._thread.is_alive(), timeout
            ):
                pytest.fail(f"only {self._acknowledged} of {count} acknowledged in {timeout} s")
            if self._acknowledged < count:
                pytest.fail(f"the burst ended with {self._acknowledged} of {count} acknowledged")

    def join(self, timeout: float = 60.0) -> list[Answer]:
        """Wait until every request has its answer (or its error); return the answers."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            pytest.fail(f"the burst did not finish within {timeout} s")
        if self._error is not None:
            raise self._error
        return self.answers

    def _run(self) -> None:
        try:
            asyncio.run(self._send_all())
        except BaseException as error:  # handed to join(), in the test's thread
            self._error = error
        finally:
            with self._cond:
                self._cond.notify_all()

    async def _send_all(self) -> None:
        limits = httpx.Limits(
            max_connections=self.concurrency,
            max_keepalive_connections=self.concurrency if self.keepalive else 0,
            # Servers close idle connections after a second or two; see _helpers.
            keepalive_expiry=1.0,
        )
        slots = asyncio.Semaphore(self.concurrency)
        started = time.monotonic()
        async with httpx.AsyncClient(
            base_url=self.base_url, limits=limits, timeout=self.timeout
        ) as client:

            async def post(index: int, message: str) -> None:
                if self.rate:
                    await asyncio.sleep(max(0.0, started + index / self.rate - time.monotonic()))
                async with slots:
                    sent_at = time.monotonic()
                    try:
                        url = httpx.URL(SEND, query=message_query(message))
                        status = (await client.post(url)).status_code
                    except httpx.TransportError:
                        status = NO_ANSWER
                    now = time.monotonic()
                self._record(Answer(message, status, now, now - sent_at))

            await asyncio.gather(*(post(i, m) for i, m in enumerate(self.messages)))

    def _record(self, answer: Answer) -> None:
        with self._cond:
            self.answers.append(answer)
            if answer.status == 200:
                self._acknowledged += 1
                self._cond.notify_all()


@dataclass(frozen=True)
class Ledger:
    """Where every request of a fault run ended up, checked against what the log holds.

    ``written`` counts the run's messages in the log. A message that got no
    answer (the connection died) may or may not have been written: it is "in
    doubt", never counted as lost nor as unexpected.
    """

    answers: tuple[Answer, ...]
    written: Counter[str]
    # Lines of the run's bursts that match no message sent: mangled or made up.
    stray: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, answers: Iterable[Answer], log: Iterable[str]) -> Ledger:
        """Account ``answers`` against the messages in ``log``.

        A line that starts like the run's messages (their label and run token,
        see ``burst_messages``) but is none of them is kept as ``stray``.
        """
        answers = tuple(answers)
        sent = {answer.message for answer in answers}
        runs = tuple({message.rpartition(" ")[0] + " " for message in sent})
        written: Counter[str] = Counter()
        stray: Counter[str] = Counter()
        for message in log:
            if message in sent:
                written[message] += 1
            elif runs and message.startswith(runs):
                stray[message] += 1
        return cls(answers, written, stray)

    @property
    def acknowledged(self) -> list[Answer]:
        """The requests answered 200."""
        return [answer for answer in self.answers if answer.status == 200]

    @property
    def refused(self) -> list[Answer]:
        """The requests answered with anything but 200 (a 503, say)."""
        return [a for a in self.answers if a.status not in (200, NO_ANSWER)]

    @property
    def unanswered(self) -> list[Answer]:
        """The requests that got no answer at all."""
        return [answer for answer in self.answers if answer.status == NO_ANSWER]

    @property
    def lost(self) -> list[Answer]:
        """Acknowledged, but not in the log."""
        return [answer for answer in self.acknowledged if not self.written[answer.message]]

    @property
    def duplicated(self) -> list[str]:
        """In the log more than once."""
        return [message for message, count in self.written.items() if count > 1]

    @property
    def extra_copies(self) -> int:
        """How many lines beyond the first copy of each message the log holds."""
        return sum(count - 1 for count in self.written.values() if count > 1)

    @property
    def unexpected(self) -> list[str]:
        """In the log although the answer said it was not taken."""
        return [answer.message for answer in self.refused if self.written[answer.message]]

    @property
    def written_acknowledged(self) -> int:
        """The acknowledged messages that are in the log."""
        return sum(1 for answer in self.acknowledged if self.written[answer.message])

    @property
    def slowest(self) -> float:
        """The longest time, in seconds, that an answered request waited for its answer."""
        return max((a.elapsed for a in self.answers if a.status != NO_ANSWER), default=0.0)

    def figures(self) -> dict[str, float]:
        """The fault matrix's figures for this run."""
        return {
            "acknowledged": len(self.acknowledged),
            "written": sum(1 for count in self.written.values() if count),
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "errors": len(self.refused) + len(self.unanswered),
            "slowest": round(self.slowest, 3),
        }

    def record(self, request: pytest.FixtureRequest, fault: str) -> None:
        """Attach the figures to the test's report (``report.user_properties``)."""
        # Not the record_property fixture: it warns (an error here) under JUnit's xunit2.
        properties = request.node.user_properties
        properties.append(("fault", fault))
        properties.extend(self.figures().items())

    def __str__(self) -> str:
        figures = ", ".join(f"{name} {value}" for name, value in self.figures().items())
        return f"{figures}; refused {len(self.refused)}, unanswered {len(self.unanswered)}"

    def check_consistent(self, *, max_duplicated: int = 0, in_doubt: Collection[str] = ()) -> None:
        """Hold for every fault: the log holds only what was taken, and copies within a bound.

        Every line of the run is a message that was sent, unchanged. Every written
        message was acknowledged, or got no answer, or is ``in_doubt``: refused
        after a timeout, when the server cannot know whether the work was taken.
        At most ``max_duplicated`` lines are second copies (a redelivery).
        """
        assert not self.stray, f"lines that were never sent: {list(self.stray)[:3]!r} ({self})"
        taken = {a.message for a in self.answers if a.status in (200, NO_ANSWER)}
        unexpected = [m for m in self.written if m not in taken and m not in in_doubt]
        assert not unexpected, f"written although refused: {unexpected[:3]!r} ({self})"
        assert self.extra_copies <= max_duplicated, (
            f"{self.extra_copies} second copies, at most {max_duplicated} allowed: "
            f"{self.duplicated[:3]!r} ({self})"
        )

    def check_answered(
        self, *, at_least: int, before: float | None = None, refusals: bool = False
    ) -> None:
        """At least ``at_least`` requests got a 200; so did every one answered ``before``.

        A fault may cost answers after it strikes, never before: a request that
        failed earlier is a fault of the test or of the implementation, and a run
        with few acknowledgements proves little about losing them. With
        ``refusals``, a refusal (a 503 of a full queue) before the fault is an
        answer too; a request with no answer never is.
        """
        acknowledged = len(self.acknowledged)
        assert acknowledged >= at_least, (
            f"{acknowledged} acknowledged, expected {at_least} ({self})"
        )
        if before is not None:
            allowed = {200} | ({a.status for a in self.refused} if refusals else set())
            early = Counter(
                a.status
                for a in self.answers
                if a.answered_at < before and a.status not in allowed
            )
            assert not early, f"failed before the fault: {dict(early)} ({self})"

    def check_all_answered(self) -> None:
        """Every request of the run got a 200."""
        self.check_answered(at_least=len(self.answers))

    def check_nothing_lost(self) -> None:
        """Every acknowledged message is in the log."""
        lost = [answer.message for answer in self.lost]
        assert not lost, f"acknowledged but never written: {lost[:3]!r} ({self})"


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


def written(*paths: Path) -> list[str]:
    """Every message in the given log files (missing files hold none)."""
    messages: list[str] = []
    for path in paths:
        if path.is_file():
            messages.extend(read_messages(path))
    return messages


def settle(
    stack: Stack, answers: Sequence[Answer], timeout: float, *, paths: Sequence[Path] = ()
) -> Ledger:
    """Wait for the acknowledged work to be written, then account the answers against the log.

    The wait ends early once no process of the stack is left to do the work (a
    crashed in-process server). With a broker, it goes on until the broker has
    handed out every message and had each one acknowledged, so that a message
    coming back after a crash is counted as the duplicate it is.
    """
    files = (stack.log_path, *paths)
    acknowledged = {answer.message for answer in answers if answer.status == 200}
    broker = stack.env.get("REDIS_URL")

    def done() -> bool:
        if not any(proc.running for proc in stack.processes.values()):
            return True
        if not acknowledged <= set(written(*files)):
            return False
        return broker is None or broker_idle(broker, stack.impl)

    wait_until(done, timeout, interval=0.1)
    return Ledger.of(answers, written(*files))


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
        env = {"LOG_DELAY_MS": DELAY_MS, **redelivery_env(impl, VISIBILITY_TIMEOUT)}
        if impl.workers_env is not None:
            env[impl.workers_env] = WORKERS
        stack = Stack(
            impl,
            workdir,
            env=env,
            redis_url=databases.allocate() if databases is not None else None,
            log_path=workdir / "logs" / "log.txt",
        )
        request.config.stash[_FAULT_STACK] = stack
        # A finalizer of the session runs before those of the session's fixtures,
        # so the stack stops while its Redis still runs.
        request.session.addfinalizer(stack.stop)
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


def redelivery_env(impl: Impl, seconds: float) -> dict[str, str]:
    """The environment that makes unacknowledged broker messages come back after ``seconds``."""
    if impl.visibility_timeout_env is None:
        return {}
    return {impl.visibility_timeout_env: f"{seconds:g}"}


def failures_naming(stack: Stack, path: Path) -> int:
    """How many messages the stack's output reports as not written to ``path``."""
    output = stack.output()
    # Each report ends in a traceback whose LogWriteError reads "cannot write
    # log file '<path>': <reason>". A report about a batch of lines written in
    # one system call (linelog's awrite_soon) starts with how many it held.
    reports = output.count(f"cannot write log file {str(path)!r}")
    batched = sum(int(n) - 1 for n in _BATCH_FAILURE.findall(output))
    return reports + batched


def recycle_env(impl: Impl, max_requests: int) -> dict[str, str] | None:
    """The environment that makes the web server recycle its processes, or None if it cannot."""
    if impl.recycle_env is None:
        return None
    return {name: value.format(n=max_requests) for name, value in impl.recycle_env.items()}


def pool_children(worker: ManagedProcess) -> list[int]:
    """The pids of the worker's pool processes; skip the test if it has none."""
    try:
        children = [child.pid for child in psutil.Process(worker.pid).children()]
    except psutil.NoSuchProcess:
        children = []
    if not children:
        pytest.skip(f"the {worker.name} process runs no pool processes")
    return children


# pselect6's number, by machine: Python 3.10's time.sleep waits in pselect6.
_PSELECT6 = {"x86_64": "270", "aarch64": "72"}.get(platform.machine())


def _in_time_sleep(pid: int) -> bool:
    """Whether process ``pid`` is asleep in ``time.sleep``.

    Python 3.11 and later sleep in clock_nanosleep (a nanosleep in
    ``/proc/<pid>/wchan``). Python 3.10 sleeps in a pselect6 on no descriptors,
    whose wchan is the same as an idle pool process's poll, so its system call
    and first argument (0 descriptors) tell them apart.
    """
    try:
        if "nanosleep" in Path(f"/proc/{pid}/wchan").read_text():
            return True
        call = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return len(call) > 1 and call[0] == _PSELECT6 and call[1] == "0x0"


def busy_pool_process(worker: ManagedProcess, timeout: float = 10.0) -> int:
    """A pool process that is mid-task; fail the test if none is seen within ``timeout``.

    Mid-task means asleep in the simulated work (``time.sleep``).
    """
    children = pool_children(worker)
    busy: list[int] = []

    def sleeping() -> bool:
        for pid in children:
            if _in_time_sleep(pid):
                busy.append(pid)
                return True
        return False

    if not wait_until(sleeping, timeout, interval=0.002):
        pytest.fail(f"no pool process of {worker.name} was seen mid-task within {timeout} s")
    return busy[0]


def listening_addresses(pid: int) -> set[str]:
    """The IP addresses on which process ``pid`` accepts TCP connections."""
    return {
        conn.laddr.ip
        for conn in psutil.Process(pid).net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    }


def describe(stack: Stack) -> str:
    """The end of the stack's output, for an assertion message."""
    return output_tail(stack, 4000)

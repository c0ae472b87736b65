"""Publishing to a broker off the event loop: one thread the loop awaits, a bound, a breaker.

The clients of the brokers behind Celery, Dramatiq and RQ (kombu, redis-py) block:
a publish that Redis does not answer holds its thread until the socket timeout.
Run on the event loop, that stops every request of the web process,
``/baseline/`` and ``/healthz`` included, for the length of the timeout (issue
18 of this repository: about 1 s with Redis frozen, 2 s with Redis killed;
kombu has no asyncio producer, kombu issue 1299; Celery's ``apply_async``
blocks the same way, celery issue 3884; Dramatiq's and RQ's enqueue are plain
redis-py calls). ``PublishGate`` runs every publish in one dedicated thread that
the loop awaits, gives up waiting after a bound of its own, and refuses at once
while the broker is known to be away: the loop never waits on the broker, and
neither does any request that does not publish.

The gate knows nothing of the broker: it is given ``publish(batch)``, which
queues a list of items or raises, and ``ping()``, which returns once the broker
answers or raises. Both run in threads of the gate's own, never on the loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

__all__ = ["BrokerUnavailable", "PartlyPublished", "PublishGate"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How many loop iterations a group may wait for more items before it is sent.
_MAX_ROUNDS = 8


class BrokerUnavailable(Exception):
    """The broker did not take the item (or is known to be away): it is not acknowledged."""


class PartlyPublished(Exception):
    """Raised by ``publish(batch)``, from the error, when only the first ``sent`` items went out.

    For a client that queues one item per call: the items before the failure
    are in the broker and get their 200, the others their 503; without it a
    failure refuses the whole batch, items the broker took included.
    """

    def __init__(self, sent: int) -> None:
        super().__init__(f"{sent} items published before the failure")
        self.sent = sent


class PublishGate(Generic[T]):
    """Hands the items of concurrent requests to ``publish`` in a thread, grouped, with a breaker.

    Each request submits its item and awaits a future. Once no more items
    arrive, ``max_batch`` are waiting, or a few loop iterations have passed,
    everything waiting goes to the publishing thread as one ``publish(batch)``
    call (which may split it: Celery's front sends tasks of 32 messages in one
    pipeline); the futures are resolved when it returns. Items that arrive
    meanwhile wait for that call and go together in the next one: one publish
    in flight at a time, so a busy server sends fewer, fuller batches.

    With a ``linger`` (seconds), a group waits that long for each next item
    instead of one loop iteration (at most eight times), and so does the group
    that formed during a round trip, for the requests that the answers bring
    back: fuller batches for a little latency, as a Kafka producer's
    ``linger.ms`` trades them.

    The loop waits for the thread at most ``timeout`` seconds. A publish that
    raises or outlives the bound refuses its batch (``BrokerUnavailable``; all
    of it, unless it raised ``PartlyPublished``) and opens the breaker: every
    later request is refused at once until a probe (``ping``, in a thread of
    its own) finds the broker again. A publish that timed out is never sent
    again: the broker may still carry it out, and a replay could queue it twice
    (its 503 is *in doubt*, docs/contract.md). ``publish`` itself must not
    retry after a timeout, for the same reason.
    """

    def __init__(
        self,
        publish: Callable[[list[T]], object],
        ping: Callable[[], object],
        *,
        timeout: float,
        max_batch: int = 32,
        linger: float = 0.0,
        probe_interval: float = 0.5,
        name: str = "Redis",
    ) -> None:
        self._publish = publish
        self._ping_once = ping
        # How long a request waits for its publish at most, whatever the thread does.
        self._timeout = timeout
        self._max_batch = max_batch
        # How long a group waits for each next item (0: one loop iteration).
        self._linger = linger
        # How often an unavailable broker is probed until it answers again.
        self._probe_interval = probe_interval
        # What the refusals call the broker.
        self._name = name
        self._publish_executor = ThreadPoolExecutor(1, thread_name_prefix="broker-publish")
        # Probes block in their own thread, one at a time, so that a probe never
        # waits behind a publish, nor a publish behind a probe.
        self._probe_executor = ThreadPoolExecutor(1, thread_name_prefix="broker-probe")
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._in_flight: asyncio.Task[None] | None = None
        self._down: str | None = None
        # When the broker last answered a publish or a probe (time.monotonic()).
        self._last_answer = float("-inf")
        self._recovery: asyncio.Task[None] | None = None
        self._refresh: asyncio.Task[str | None] | None = None
        self._probe_future: asyncio.Future[str | None] | None = None

    async def start(self) -> None:
        """Start the publishing thread, then probe the broker once; never raises.

        The broker may be down at startup: the app serves anyway, its health
        check says 503 until a probe finds the broker.
        """
        await asyncio.get_running_loop().run_in_executor(self._publish_executor, lambda: None)
        await self.check()

    async def submit(self, item: T) -> None:
        """Queue ``item``; raise ``BrokerUnavailable`` unless the broker took it."""
        if self._down is not None:
            raise BrokerUnavailable(self._down)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) == 1 and self._in_flight is None:
            loop.call_soon(self._flush_when_settled, 1, 0)
        await future

    def unavailable(self) -> str | None:
        """Why the broker is unavailable as far as the gate knows, or None; never waits.

        When the broker has not answered for a while, a probe starts in the
        background: a later call reports what it found.
        """
        stale = time.monotonic() - self._last_answer > self._probe_interval
        if self._down is None and stale and (self._refresh is None or self._refresh.done()):
            # Its answer opens or closes the breaker; nobody waits for it.
            self._refresh = asyncio.get_running_loop().create_task(self.check())
        return self._down

    async def check(self) -> str | None:
        """Probe the broker now; return why it is unavailable, or None if it answers."""
        reason = await self._probe()
        if reason is None:
            self._mark_up()
        else:
            self._mark_down(reason)
        return reason

    def close(
        self,
        *,
        release: Callable[[], object] | None = None,
        release_probe: Callable[[], object] | None = None,
    ) -> None:
        """Stop probing and refuse what is pending; never waits.

        ``release`` runs in the publishing thread after the publish it may be
        doing, ``release_probe`` in the probing thread: each drops the
        connection its thread uses.
        """
        if self._recovery is not None:
            self._recovery.cancel()
        _fail(self._pending, BrokerUnavailable("the server is shutting down"))
        self._pending = []
        for executor, job in (
            (self._publish_executor, release),
            (self._probe_executor, release_probe),
        ):
            if job is not None:
                executor.submit(job)
            executor.shutdown(wait=False)

    def _flush_when_settled(self, seen: int, rounds: int) -> None:
        # While the last wait brought more items, wait once more: a busy server
        # then sends fewer, fuller batches, and an idle one sends at once.
        pending = len(self._pending)
        if seen < pending < self._max_batch and rounds < _MAX_ROUNDS:
            loop = asyncio.get_running_loop()
            if self._linger:
                loop.call_later(self._linger, self._flush_when_settled, pending, rounds + 1)
            else:
                loop.call_soon(self._flush_when_settled, pending, rounds + 1)
        else:
            self._flush()

    def _flush(self) -> None:
        if self._in_flight is not None:
            return  # the publish in flight sends what waits once it returns
        batch, self._pending = self._pending, []
        if not batch:  # close() refused them already
            return
        if self._down is not None:
            _fail(batch, BrokerUnavailable(self._down))
            return
        self._in_flight = asyncio.get_running_loop().create_task(self._publish_batch(batch))

    async def _publish_batch(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        items = [item for item, _ in batch]
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        sent = loop.run_in_executor(self._publish_executor, self._publish, items)
        try:
            # shield: a publish that outlives the bound goes on in its thread (it
            # cannot be stopped); its outcome is unknown, as after a socket timeout.
            await asyncio.wait_for(asyncio.shield(sent), self._timeout)
        except Exception as error:
            taken = 0
            if isinstance(error, asyncio.TimeoutError):
                reason = f"{self._name} did not answer within {self._timeout:g} s"
                sent.add_done_callback(functools.partial(_late, len(items)))
            else:
                if isinstance(error, PartlyPublished):
                    taken = error.sent
                reason = f"{self._name} did not take the message: {describe(error)}"
            logger.warning(
                "%s (%d messages refused after %.2f s)",
                reason,
                len(items) - taken,
                time.monotonic() - started,
            )
            self._mark_down(reason)
            _succeed(batch[:taken])
            _fail(batch[taken:], BrokerUnavailable(reason))
        else:
            self._last_answer = time.monotonic()
            _succeed(batch)
        finally:
            self._in_flight = None
            if self._pending and self._linger:
                # What arrived during the round trip waits for the requests that
                # this round trip's answers bring back (a linger each).
                self._flush_when_settled(0, 0)
            elif self._pending:
                # What arrived during the round trip is a group already: send it now.
                self._flush()

    def _mark_down(self, reason: str) -> None:
        if self._down is None:
            logger.error("Broker unavailable: %s", reason)
        self._down = reason
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.get_running_loop().create_task(self._recover())

    def _mark_up(self) -> None:
        if self._down is not None:
            logger.warning("Broker available again")
        self._down = None
        self._last_answer = time.monotonic()

    async def _recover(self) -> None:
        while self._down is not None:
            await asyncio.sleep(self._probe_interval)
            if await self._probe() is None:
                self._mark_up()

    async def _probe(self) -> str | None:
        # Concurrent callers share one probe, so a frozen broker ties up one thread.
        if self._probe_future is None or self._probe_future.done():
            loop = asyncio.get_running_loop()
            self._probe_future = asyncio.ensure_future(
                loop.run_in_executor(self._probe_executor, self._ping)
            )
        return await asyncio.shield(self._probe_future)

    def _ping(self) -> str | None:
        try:
            self._ping_once()
        except Exception as error:
            return f"{self._name} is not answering: {describe(error)}"
        return None


def describe(error: BaseException) -> str:
    """``error``'s root cause as ``Type: text``: clients wrap the socket's error in their own."""
    root = error
    while root.__cause__ is not None:
        root = root.__cause__
    return f"{type(root).__name__}: {root}"


def _succeed(batch: Sequence[tuple[object, asyncio.Future[None]]]) -> None:
    for _, future in batch:
        if not future.done():
            future.set_result(None)


def _fail(batch: Sequence[tuple[object, asyncio.Future[None]]], error: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)


def _late(count: int, sent: asyncio.Future[object]) -> None:
    # The outcome of a publish that the loop stopped waiting for: its requests
    # got a 503, but the messages may be in the broker all the same (in doubt).
    if sent.cancelled():
        return
    error = sent.exception()
    if error is None:
        logger.warning(
            "A publish that timed out went through late: %d refused messages queued", count
        )
    else:
        logger.warning("A publish that timed out failed: %s", describe(error))

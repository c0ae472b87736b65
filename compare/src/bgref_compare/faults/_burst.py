"""A burst of messages POSTed from a background thread, and what each request got back."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import httpx

__all__ = [
    "KEEPALIVE_EXPIRY",
    "NO_ANSWER",
    "SEND_PATH",
    "Answer",
    "Burst",
    "burst_messages",
    "message_query",
]

SEND_PATH = "/send-message/"
# A request that got no HTTP answer at all (refused connection, reset, timeout).
NO_ANSWER = 0
# Servers close idle keep-alive connections (gunicorn after 2 s, uvicorn after 5 s);
# a client that reuses one just as it closes gets a spurious ReadError. Expiring
# them sooner on the client side avoids the race.
KEEPALIVE_EXPIRY = 1.0


@dataclass(frozen=True)
class Answer:
    """What one request of a burst got back, and when (``time.monotonic()``)."""

    message: str
    status: int
    answered_at: float
    elapsed: float


def message_query(message: str) -> bytes:
    """The query string ``message=...`` with every reserved byte percent-encoded (UTF-8)."""
    return b"message=" + quote(message, safe="").encode("ascii")


def burst_messages(label: str, count: int) -> list[str]:
    """``count`` distinct messages of one run, numbered so that a lost one is easy to name."""
    run = uuid.uuid4().hex[:12]
    return [f"{label} {run} {i:04d}" for i in range(count)]


class Burst:
    """POSTs messages to ``/send-message/`` from a background thread, many at a time.

    The caller's thread stays free to inject a fault once enough answers have
    come back (``wait_acknowledged``). ``rate`` paces the requests (per
    second), so that the age of every acknowledgement at the moment of a fault
    is known. A wait that times out raises ``TimeoutError``.
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
        """Block until ``count`` requests got a 200."""
        with self._cond:
            if not self._cond.wait_for(
                lambda: self._acknowledged >= count or not self._thread.is_alive(), timeout
            ):
                raise TimeoutError(
                    f"only {self._acknowledged} of {count} acknowledged in {timeout} s"
                )
            if self._acknowledged < count:
                raise TimeoutError(
                    f"the burst ended with {self._acknowledged} of {count} acknowledged"
                )

    def join(self, timeout: float = 60.0) -> list[Answer]:
        """Wait until every request has its answer (or its error); return the answers."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the burst did not finish within {timeout} s")
        if self._error is not None:
            raise self._error
        return self.answers

    def _run(self) -> None:
        try:
            asyncio.run(self._send_all())
        except BaseException as error:  # handed to join(), in the caller's thread
            self._error = error
        finally:
            with self._cond:
                self._cond.notify_all()

    async def _send_all(self) -> None:
        limits = httpx.Limits(
            max_connections=self.concurrency,
            max_keepalive_connections=self.concurrency if self.keepalive else 0,
            keepalive_expiry=KEEPALIVE_EXPIRY,
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
                        url = httpx.URL(SEND_PATH, query=message_query(message))
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

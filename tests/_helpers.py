"""Requests with exact query strings, and polling the log of a running stack."""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator

import httpx

from bgref_compare import Stack, wait_until
from bgref_compare.faults import KEEPALIVE_EXPIRY, SEND_PATH, message_query
from bgref_linelog import read_messages

from ._trace import wait_idle

__all__ = [
    "BASELINE",
    "IDLE_DEADLINE",
    "KEEPALIVE_EXPIRY",
    "RECEIVED",
    "SEND",
    "SETTLE_DEADLINE",
    "assert_json",
    "http_client",
    "logged",
    "message_query",
    "nothing_written",
    "output_tail",
    "raw_log_lines",
    "request",
    "send",
    "sentinel",
    "token",
    "wait_for_messages",
]

SEND = SEND_PATH
BASELINE = "/baseline/"
RECEIVED = {"message": "Message received"}
# The contract's bound: at idle, every acknowledged message is written within 2 s.
IDLE_DEADLINE = 2.0
# A generous bound for waits that only order events (sentinels, slow stacks); a
# healthy implementation meets it with a wide margin on a loaded 2-core machine.
SETTLE_DEADLINE = 15.0


def http_client(base_url: str) -> httpx.Client:
    """A client for ``base_url`` that never reuses a connection the server may be closing."""
    return httpx.Client(
        base_url=base_url, timeout=30, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY)
    )


def token() -> str:
    """A unique marker that isolates one test's messages in a shared log."""
    return uuid.uuid4().hex


def request(
    client: httpx.Client, method: str, path: str, query: bytes | None = None
) -> httpx.Response:
    """Send ``method path?query`` with the query string exactly as given, not re-encoded."""
    # httpx keeps a bytes query as is, so malformed escapes (%zz, %ff, a lone %)
    # reach the server unchanged.
    return client.request(method, httpx.URL(path, query=query or b""))


def send(client: httpx.Client, message: str, path: str = SEND) -> httpx.Response:
    """POST ``message`` to ``path`` (``/send-message/`` by default)."""
    return request(client, "POST", path, message_query(message))


def assert_json(response: httpx.Response) -> object:
    """Check the JSON framing of an answer (media type, Content-Length) and return its body."""
    content_type = response.headers.get("content-type", "")
    media_type, _, params = content_type.partition(";")
    assert media_type.strip().lower() == "application/json", (
        f"Content-Type {content_type!r}, expected application/json"
    )
    charset = params.strip().lower()
    assert charset in ("", "charset=utf-8"), f"Content-Type {content_type!r}: not UTF-8"
    length = response.headers.get("content-length")
    assert length is not None, "no Content-Length header"
    assert int(length) == len(response.content), f"Content-Length {length} != body size"
    return response.json()


def logged(stack: Stack) -> list[str]:
    """Every message in the stack's log so far, oldest first."""
    return read_messages(stack.log_path)


def raw_log_lines(stack: Stack) -> list[bytes]:
    """The log file's physical lines, undecoded (without their final newline)."""
    try:
        data = stack.log_path.read_bytes()
    except FileNotFoundError:
        return []
    return data.split(b"\n")[:-1]


def output_tail(stack: Stack, chars: int = 3000) -> str:
    """The end of the stack's process output, for failure messages."""
    return stack.output()[-chars:]


def wait_for_messages(stack: Stack, expected: Iterable[str], timeout: float) -> list[str]:
    """Wait until the log holds every expected message (with multiplicity); return the log."""
    want = Counter(expected)
    log: list[str] = []

    def arrived() -> bool:
        nonlocal log
        log = logged(stack)
        have = Counter(log)
        return all(have[message] >= count for message, count in want.items())

    if not wait_until(arrived, timeout):
        missing = want - Counter(log)
        raise AssertionError(
            f"{sum(missing.values())} of {sum(want.values())} message(s) not written within "
            f"{timeout} s, e.g. {list(missing)[:3]!r}\n{output_tail(stack)}"
        )
    return log


def sentinel(stack: Stack, client: httpx.Client) -> str:
    """Send a valid, unique message and wait until it is written; return it."""
    message = f"sentinel-{token()}"
    response = send(client, message)
    assert response.status_code == 200, f"sentinel refused: {response.status_code}"
    wait_for_messages(stack, [message], SETTLE_DEADLINE)
    return message


@contextlib.contextmanager
def nothing_written(stack: Stack, client: httpx.Client) -> Iterator[None]:
    """Assert that the requests made inside the block write nothing at all.

    Before and after the block the check waits until the implementation is idle
    by its own measure (``_trace.idle``: its trace, its broker), not only for a
    message sent later, which a pool or another process may write first. A
    valid sentinel is still sent before and after, and waited for: the one after
    must be written (a stack that writes nothing at all cannot pass), and the
    one before lets work that no measure sees (a lab variant's fire-and-forget
    task on the same event loop) have its turn first. No fixed sleep.
    """
    sentinel(stack, client)
    wait_idle(stack, SETTLE_DEADLINE)
    before = Counter(logged(stack))
    yield
    after_sentinel = sentinel(stack, client)
    wait_idle(stack, SETTLE_DEADLINE)
    extra = Counter(logged(stack)) - before
    assert extra == Counter([after_sentinel]), (
        f"written although nothing should have been: {sorted(extra - Counter([after_sentinel]))!r}"
    )

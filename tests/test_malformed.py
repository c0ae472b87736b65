"""Malformed requests over raw sockets: a 4xx or an ignored excess, never a 5xx, crash or hang."""

from __future__ import annotations

import contextlib
import enum
import re
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import psutil
import pytest

from bgref_compare import Stack

from ._helpers import (
    RECEIVED,
    SEND,
    SETTLE_DEADLINE,
    assert_json,
    logged,
    message_query,
    output_tail,
    send,
    sentinel,
    token,
    wait_for_messages,
)
from ._openapi import OpenAPI, Operation
from ._trace import wait_idle

# A server that has not answered a small request on loopback within this long
# is hung, not slow.
ANSWER_TIMEOUT = 10.0
# The sizes the issue names: a 100 KB query string, 100 KB in one header.
BIG = 100_000
# Well past every common default (gunicorn refuses more than 100 header fields).
MANY_HEADERS = 1000

_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})(?: [^\r\n]*)?")


class Expect(enum.Enum):
    """What an implementation may answer to one malformed request."""

    # The application's own refusal: the contract's 422 with a JSON detail.
    INVALID = "422 with the documented body"
    # Any 4xx, from the HTTP server or the application.
    REFUSED = "a 4xx"
    # 200, the query's message written once, the excess (a body) ignored.
    ACCEPTED = "200, the message written once"
    # The HTTP servers disagree here, as "Where the servers differ" in
    # docs/contract.md records: either answer, so long as a 200 means written.
    REFUSED_OR_ACCEPTED = "a 4xx, or 200 with the message written once"


@dataclass(frozen=True)
class Malformed:
    """A malformed request, built around the message it carries, and what it may get."""

    name: str
    build: Callable[[str], bytes]
    expect: Expect


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as read off the socket."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def as_response(self) -> httpx.Response:
        """The answer as an ``httpx.Response``, for the suite's checks."""
        return httpx.Response(self.status, headers=self.headers, content=self.body)

    def __str__(self) -> str:
        return f"{self.status} {self.body[:200]!r}"


def _request(
    target: bytes, headers: bytes = b"", body: bytes = b"", version: bytes = b" HTTP/1.1"
) -> bytes:
    # Connection: close, so that every server ends the exchange after its answer.
    return (
        b"POST " + target + version + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + headers + b"\r\n" + body
    )  # fmt: skip


def _send(query: bytes, headers: bytes = b"", body: bytes = b"") -> bytes:
    return _request(SEND.encode() + b"?" + query, headers, body)


def _with(message: str, suffix: bytes) -> bytes:
    return message_query(message) + suffix


def _cases() -> list[Malformed]:
    def body(content_type: bytes, content: bytes) -> Callable[[str], bytes]:
        def build(message: str) -> bytes:
            headers = b"Content-Type: %s\r\nContent-Length: %d\r\n" % (content_type, len(content))
            return _send(message_query(message), headers, content)

        return build

    def header_lines(lines: bytes) -> Callable[[str], bytes]:
        return lambda message: _send(message_query(message), lines)

    # The body carries another message: were it read instead of the query, the
    # log would show it.
    other = token()
    return [
        # The query string.
        Malformed("bad-escape", lambda m: _send(_with(m, b"%zz")), Expect.INVALID),
        Malformed("invalid-utf8-escaped", lambda m: _send(_with(m, b"%ff%fe")), Expect.INVALID),
        Malformed("invalid-utf8-raw", lambda m: _send(_with(m, b"\xff\xfe")), Expect.REFUSED),
        Malformed("nul-escaped", lambda m: _send(_with(m, b"%00")), Expect.INVALID),
        Malformed("nul-raw", lambda m: _send(_with(m, b"\x00")), Expect.REFUSED),
        Malformed(
            "repeated-message",
            lambda m: _send(message_query(m) + b"&" + message_query(m)),
            Expect.INVALID,
        ),
        Malformed("query-100kb", lambda m: _send(_with(m, b"x" * BIG)), Expect.REFUSED),
        Malformed(
            "query-100kb-escaped", lambda m: _send(_with(m, b"%41" * (BIG // 3))), Expect.REFUSED
        ),
        Malformed(
            "space-in-target", lambda m: _send(b"message=a b&" + message_query(m)), Expect.REFUSED
        ),
        # The header block.
        Malformed(
            "header-100kb",
            header_lines(b"X-Big: " + b"a" * BIG + b"\r\n"),
            Expect.REFUSED_OR_ACCEPTED,
        ),
        Malformed(
            "many-headers",
            header_lines(b"".join(b"X-H%d: v\r\n" % i for i in range(MANY_HEADERS))),
            Expect.REFUSED_OR_ACCEPTED,
        ),
        Malformed("nul-in-header", header_lines(b"X-A: a\x00b\r\n"), Expect.REFUSED),
        Malformed("header-without-colon", header_lines(b"NoColon\r\n"), Expect.REFUSED),
        Malformed(
            "content-length-not-a-number", header_lines(b"Content-Length: x\r\n"), Expect.REFUSED
        ),
        Malformed(
            # Both framings at once: the classic request-smuggling shape.
            "content-length-and-chunked",
            header_lines(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
            Expect.REFUSED,
        ),
        # A body on the POST: the contract ignores it.
        Malformed("body-text", body(b"text/plain", other.encode()), Expect.ACCEPTED),
        Malformed(
            "body-json",
            body(b"application/json", b'{"message": "%s"}' % other.encode()),
            Expect.ACCEPTED,
        ),
        Malformed(
            "body-form",
            body(b"application/x-www-form-urlencoded", b"message=" + other.encode()),
            Expect.ACCEPTED,
        ),
        Malformed(
            "body-chunked",
            lambda m: _send(
                message_query(m),
                b"Transfer-Encoding: chunked\r\n",
                b"%x\r\n%s\r\n0\r\n\r\n" % (len(other), other.encode()),
            ),
            Expect.ACCEPTED,
        ),
        Malformed(
            "body-1mb", body(b"application/octet-stream", b"x" * 1_000_000), Expect.ACCEPTED
        ),
        Malformed(
            # The body stops short of its Content-Length: the answer must not wait for it.
            "body-cut-short",
            lambda m: _send(message_query(m), b"Content-Length: 100\r\n", b"0123456789"),
            Expect.ACCEPTED,
        ),
        # The request line.
        Malformed(
            "no-http-version",
            lambda m: _request(SEND.encode() + b"?" + message_query(m), version=b""),
            Expect.REFUSED_OR_ACCEPTED,
        ),
        Malformed(
            "unknown-http-version",
            lambda m: _request(SEND.encode() + b"?" + message_query(m), version=b" HTTP/9.9"),
            Expect.REFUSED,
        ),
        Malformed(
            "bare-lf-line-ends",
            lambda m: _send(message_query(m)).replace(b"\r\n", b"\n"),
            Expect.REFUSED,
        ),
        Malformed(
            "garbage", lambda m: b"\x00\xff\xfe\x80 " + m.encode() + b"\r\n\r\n", Expect.REFUSED
        ),
        Malformed(
            "tls-client-hello",
            lambda m: bytes.fromhex("16030100a5010000a10303") + bytes(40) + b"\r\n\r\n",
            Expect.REFUSED,
        ),
        Malformed("http2-preface", lambda m: b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Expect.REFUSED),
    ]


CASES = _cases()


def _dechunk(data: bytes) -> bytes:
    body = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return body
        body, data = body + data[:size], data[size + 2 :]


def exchange(port: int, data: bytes, timeout: float = ANSWER_TIMEOUT) -> Answer:
    """Write ``data`` on a new connection and read one HTTP answer; fail if none comes."""
    deadline = time.monotonic() + timeout
    received = b""

    def more() -> bytes:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(
                f"no complete answer within {timeout} s, got {received[:200]!r}"
            ) from None
        except ConnectionResetError:
            chunk = b""
        return chunk

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # A server may answer and close before it has read everything (a refused
        # 100 KB header); its answer is still there to read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        while b"\r\n\r\n" not in received:
            chunk = more()
            assert chunk, f"connection closed without an answer, got {received[:200]!r}"
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        status_line, *header_lines = head.split(b"\r\n")
        match = _STATUS_LINE.fullmatch(status_line)
        assert match, f"not an HTTP/1.x status line: {status_line[:200]!r}"
        headers = [
            (name.strip().decode("latin-1"), value.strip().decode("latin-1"))
            for name, _, value in (line.partition(b":") for line in header_lines)
        ]
        fields = {name.lower(): value for name, value in headers}
        if "content-length" in fields:
            length = int(fields["content-length"])
            while len(body) < length:
                chunk = more()
                assert chunk, f"connection closed {length - len(body)} bytes into the body"
                body += chunk
        else:
            while chunk := more():
                body += chunk
            if "chunked" in fields.get("transfer-encoding", "").lower():
                body = _dechunk(body)
    return Answer(int(match.group(1)), headers, body)


def _process_tree(stack: Stack) -> set[int]:
    # A crashed process (or a replaced gunicorn worker) changes this set, even
    # when a supervisor has already started another one and the stack answers.
    pids = set()
    for proc in stack.processes.values():
        try:
            root = psutil.Process(proc.pid)
            pids.add(root.pid)
            pids.update(child.pid for child in root.children(recursive=True))
        except psutil.NoSuchProcess:
            continue
    return pids


@contextlib.contextmanager
def still_serving(stack: Stack, client: httpx.Client) -> Iterator[list[str]]:
    """Check that what the block does leaves the stack whole, writing exactly what it lists.

    Yields a list for the messages the block expects to be written. Afterwards
    ``/healthz`` answers 200, a valid message is written, the stack goes idle by
    its own measure (``_trace.idle``), so that anything the block scheduled had
    its turn in whatever order the stack works, no process of the stack died or
    was replaced, and nothing printed a traceback.
    """
    sentinel(stack, client)
    wait_idle(stack, SETTLE_DEADLINE)
    before = Counter(logged(stack))
    processes = _process_tree(stack)
    output = len(stack.output())
    expected: list[str] = []
    yield expected
    health = client.get("/healthz")
    assert health.status_code == 200, f"/healthz answered {health.status_code} afterwards"
    after = sentinel(stack, client)
    wait_idle(stack, SETTLE_DEADLINE)
    extra = Counter(logged(stack)) - before
    assert extra == Counter([*expected, after]), (
        f"written: {sorted(extra)!r}, expected {sorted([*expected, after])!r}"
    )
    assert _process_tree(stack) == processes, (
        f"a process of the stack exited or was replaced\n{output_tail(stack)}"
    )
    printed = stack.output()[output:]
    assert "Traceback" not in printed, f"the stack printed a traceback:\n{printed[-3000:]}"


@pytest.fixture(scope="module")
def send_operation(openapi: OpenAPI) -> Operation:
    """``POST /send-message/`` in the document."""
    return next(op for op in openapi.operations() if op.path == SEND and op.method == "post")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_malformed_request(
    stack: Stack,
    client: httpx.Client,
    openapi: OpenAPI,
    send_operation: Operation,
    case: Malformed,
) -> None:
    """The request gets its expected answer class, and the stack keeps serving."""
    message = f"malformed-{case.name}-{token()}"
    with still_serving(stack, client) as written:
        answer = exchange(stack.port, case.build(message))
        # What each server answers, for the contract's "Where the servers differ"
        # (shown by `pytest -rP`).
        print(f"{case.name}: {answer.status}")
        assert answer.status < 500, f"server error: {answer}"
        may_accept = case.expect in (Expect.ACCEPTED, Expect.REFUSED_OR_ACCEPTED)
        may_refuse = case.expect in (Expect.REFUSED, Expect.REFUSED_OR_ACCEPTED)
        accepted = may_accept and answer.status == 200
        refused = may_refuse and 400 <= answer.status < 500
        if case.expect is Expect.INVALID:
            assert answer.status == 422, f"expected {case.expect.value}, got {answer}"
            response = answer.as_response()
            assert_json(response)
            openapi.check_response(send_operation, response)
        else:
            assert accepted or refused, f"expected {case.expect.value}, got {answer}"
        if accepted:
            assert assert_json(answer.as_response()) == RECEIVED
            written.append(message)


def test_a_stalled_request_does_not_hold_up_others(stack: Stack, client: httpx.Client) -> None:
    """A client that stops half-way through its headers does not keep others waiting."""
    stalled_message = f"stalled-{token()}"
    message = f"meanwhile-{token()}"
    # still_serving also checks that the stalled request, never completed, wrote nothing.
    with (
        still_serving(stack, client) as written,
        socket.create_connection(("127.0.0.1", stack.port), timeout=ANSWER_TIMEOUT) as stalled,
    ):
        stalled.sendall(
            b"POST " + SEND.encode() + b"?" + message_query(stalled_message)
            + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        )  # fmt: skip
        started = time.monotonic()
        response = send(client, message)
        took = time.monotonic() - started
        assert response.status_code == 200, f"meanwhile: {response.status_code}"
        assert took < ANSWER_TIMEOUT, f"a request took {took:.1f} s behind a stalled one"
        wait_for_messages(stack, [message], SETTLE_DEADLINE)
        written.append(message)
        health = client.get("/healthz")
        assert health.status_code == 200, f"/healthz meanwhile: {health.status_code}"

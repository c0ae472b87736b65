"""The load generator end to end, against small servers in the same event loop."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, cast

from bgref_compare.loadgen._loadgen import LoadRunner, LoadSpec, Phase
from bgref_compare.scenarios._trivial import TrivialProtocol

_BODY = b'{"message": "Message received"}'


def _answer(status: bytes) -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status, len(_BODY), _BODY)


class FakeApp(asyncio.Protocol):
    """Answers like the contract, and misbehaves on purpose by sequence number.

    On /send-message/: seq % 10 == 3 is refused with 503 (nothing written),
    == 7 is acknowledged but never written (lost), == 5 is written twice; the
    rest is written once, ``delay`` seconds after the answer. /baseline/ writes
    nothing.
    """

    def __init__(self, log: Path, delay: float) -> None:
        self._log = log
        self._delay = delay
        self._buf = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buf += data
        while b"\r\n\r\n" in self._buf:
            head, self._buf = self._buf.split(b"\r\n\r\n", 1)
            target = head.split(b" ")[1].decode()
            path, _, query = target.partition("?message=")
            seq = int(query.rsplit("-", 1)[1])
            assert self._transport is not None
            if path == "/send-message/" and seq % 10 == 3:
                self._transport.write(_answer(b"503 Service Unavailable"))
                continue
            self._transport.write(_answer(b"200 OK"))
            if path == "/send-message/" and seq % 10 != 7:
                times = 2 if seq % 10 == 5 else 1
                loop = asyncio.get_running_loop()
                loop.call_later(self._delay, self._write, (query + "\n").encode() * times)

    def _write(self, data: bytes) -> None:
        fd = os.open(self._log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


async def _run(spec: LoadSpec, factory: Any) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        spec = LoadSpec(**{**spec.__dict__, "port": port})
        return await LoadRunner(spec).run()


def _expected(first: int, count: int) -> dict[str, int]:
    seqs = range(first, first + count)
    return {
        "rejected": sum(1 for s in seqs if s % 10 == 3),
        "lost": sum(1 for s in seqs if s % 10 == 7),
        "duplicated": sum(1 for s in seqs if s % 10 == 5),
    }


def test_closed_open_and_baseline_phases_account_for_every_request(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    phases = (
        Phase("closed", "/send-message/", 0.3, concurrency=4, drain=True),
        Phase("open", "/send-message/", 0.5, concurrency=8, rate=200.0, drain=True),
        Phase("baseline", "/baseline/", 0.2, concurrency=2, writes=False),
    )
    spec = LoadSpec(
        "127.0.0.1", 0, "t1", phases, log_path=str(log), drain_timeout_s=0.4, timeout_s=5.0
    )
    result = asyncio.run(_run(spec, lambda: FakeApp(log, delay=0.05)))
    closed, opened, baseline = result["phases"]
    first = 0
    for phase in (closed, opened):
        assert phase["failed"] == 0
        assert phase["requests"] == phase["ok"] + phase["rejected"]
        expected = _expected(first, phase["requests"])
        assert phase["rejected"] == expected["rejected"]
        assert phase["lost"] == expected["lost"]
        assert phase["duplicated"] == expected["duplicated"]
        assert phase["unexpected"] == 0
        assert phase["drain_complete"] is False  # the lost ones never arrive
        first += phase["requests"]
    # Open loop: the schedule is kept, and completion includes the 50 ms of "work".
    assert opened["requests"] == 100
    assert opened["offered_rps"] == 200.0
    # No upper bound in milliseconds: a busy machine can delay anything. Each
    # line is written 50 ms after its answer, so completion takes at least that,
    # and the answers do not wait for the work.
    assert opened["completion_ms"]["p50"] >= 45.0
    assert opened["latency_ms"]["p50"] < opened["completion_ms"]["p50"]
    assert baseline["ok"] == baseline["requests"] > 0
    assert baseline["lost"] == 0
    assert "completion_ms" not in baseline
    assert result["foreign_lines"] == 0
    assert result["tail_poll_ms"]["p50"] is not None


def test_capped_closed_loop_keeps_the_backlog_small(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    phase = Phase("capped", "/send-message/", 0.6, concurrency=16, drain=True, max_backlog=10)
    spec = LoadSpec("127.0.0.1", 0, "t2", (phase,), log_path=str(log), drain_timeout_s=0.4)
    [result] = asyncio.run(_run(spec, lambda: FakeApp(log, delay=0.05)))["phases"]
    # Lost messages (seq % 10 == 7) stay in the backlog for good, so the cap is
    # reached early; without it 16 connections would pile up hundreds.
    assert result["backlog_cap"] == 10
    assert result["backlog_max"] <= 10 + 16
    assert result["ok"] > 10


def test_against_the_trivial_server() -> None:
    phase = Phase("selfcheck", "/send-message/", 0.3, concurrency=8, writes=False)
    spec = LoadSpec("127.0.0.1", 0, "t3", (phase,))
    [result] = asyncio.run(_run(spec, TrivialProtocol))["phases"]
    assert result["failed"] == 0
    assert result["ok"] == result["requests"] > 100
    assert result["rps"] > 0


def test_a_server_that_is_down_counts_as_failed() -> None:
    async def main() -> dict[str, Any]:
        # A port that was free a moment ago: connections are refused.
        loop = asyncio.get_running_loop()
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        phases = (
            Phase("closed", "/send-message/", 0.1, concurrency=2, writes=False),
            Phase("open", "/send-message/", 0.1, concurrency=2, rate=50.0, writes=False),
        )
        return await LoadRunner(LoadSpec("127.0.0.1", port, "t4", phases)).run()

    closed, opened = asyncio.run(main())["phases"]
    assert closed["ok"] == 0
    assert closed["failed"] == closed["requests"] > 0
    assert opened["failed"] == opened["requests"] == 5

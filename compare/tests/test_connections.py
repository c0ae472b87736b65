"""Connection policies: which connection the next request gets, and a balanced set over the
processes of a real multi-process server."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bgref_compare.loadgen._connection import BALANCED, HOT, ROUND_ROBIN, ConnectionPool
from bgref_compare.loadgen._loadgen import LoadRunner, LoadSpec, Phase
from bgref_compare.scenarios._trivial import TrivialProtocol
from bgref_compare.stack._polling import wait_until

# A worker process of a prefork server: it serves the listening socket it inherited.
_CHILD = """
import asyncio, socket, sys
from bgref_compare.scenarios._trivial import TrivialProtocol
sock = socket.socket(fileno=int(sys.argv[1]))
async def main():
    server = await asyncio.get_running_loop().create_server(TrivialProtocol, sock=sock)
    await server.serve_forever()
asyncio.run(main())
"""


async def _order(policy: str) -> list[int]:
    """The pool's picks for three requests in a row, after three connections went idle."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(TrivialProtocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        pool = ConnectionPool("127.0.0.1", port, 3, policy=policy)
        first = [await pool.acquire() for _ in range(3)]
        for conn in first:
            pool.release(conn)
        picks = []
        for _ in range(3):
            conn = await pool.acquire()
            picks.append(first.index(conn))
            pool.release(conn)
        pool.close()
        return picks


def test_hot_reuses_the_last_connection_round_robin_takes_turns() -> None:
    assert asyncio.run(_order(HOT)) == [2, 2, 2]
    assert asyncio.run(_order(ROUND_ROBIN)) == [0, 1, 2]


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown connection policy"):
        ConnectionPool("127.0.0.1", 1, 1, policy="lucky")


@pytest.fixture
def prefork_server() -> Iterator[tuple[int, list[int]]]:
    """Two processes serving one listening socket, like gunicorn's workers."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    port = listener.getsockname()[1]
    fd = listener.fileno()
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD, str(fd)], pass_fds=(fd,)) for _ in range(2)
    ]
    try:

        def serves() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as probe:
                    probe.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    return probe.recv(64).startswith(b"HTTP/1.1 200")
            except OSError:
                return False

        assert wait_until(serves, 10.0), "the prefork server did not start"
        yield port, [child.pid for child in children]
    finally:
        for child in children:
            child.kill()
            child.wait()
        listener.close()


@pytest.mark.parametrize("loop", ["closed", "open"])
def test_a_balanced_set_gives_every_process_its_share(
    prefork_server: tuple[int, list[int]], loop: str
) -> None:
    port, pids = prefork_server
    phase = Phase(
        "balanced",
        "/baseline/",
        0.3,
        concurrency=8,
        rate=None if loop == "closed" else 200.0,
        writes=False,
        connections=BALANCED,
    )
    spec = LoadSpec("127.0.0.1", port, "rb", (phase,), server_pids=tuple(pids), web_processes=2)
    result = asyncio.run(LoadRunner(spec).run())["phases"][0]
    assert result["connections_per_process"] == [4, 4]
    assert result["failed"] == 0
    assert result["ok"] > 0

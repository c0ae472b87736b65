"""The ports given to servers: free, and out of the range the kernel gives client connections."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bgref_compare.stack import _ports
from bgref_compare.stack._ports import free_port


def _bind(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))


def test_a_free_port_is_below_the_range_that_client_connections_take() -> None:
    low, _ = _ports._ephemeral_range()
    ports = {free_port() for _ in range(20)}
    assert all(10000 <= port < low for port in ports)
    for port in ports:
        _bind(port)  # free: a server can bind it


def test_a_port_in_use_is_never_given(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        busy = int(taken.getsockname()[1])
        other = _ports._kernel_port()
        draws = iter([busy, busy, other])
        monkeypatch.setattr(_ports._RANDOM, "randrange", lambda *_: next(draws))
        monkeypatch.setattr(_ports, "_ephemeral_range", lambda: (65000, 65535))
        assert free_port() == other


def test_without_room_below_the_range_the_kernel_picks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow = tmp_path / "ip_local_port_range"
    narrow.write_text("10500\t60999\n")
    monkeypatch.setattr(_ports, "_EPHEMERAL", narrow)
    port = free_port()
    assert 10500 <= port <= 60999
    _bind(port)

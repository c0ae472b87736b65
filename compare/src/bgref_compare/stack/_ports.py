"""Free loopback ports, chosen where no client connection can take them first."""

from __future__ import annotations

import random
import socket
from pathlib import Path

__all__ = ["free_port"]

# Where Linux picks the local port of an outgoing connection, and of a bind to
# port 0 (net.ipv4.ip_local_port_range); its default when the file is missing.
_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
_DEFAULT_EPHEMERAL = (32768, 60999)
# Below it, ports that servers of this machine rarely use.
_LOWEST = 10000
# From the OS, not the seeded module state: two test processes seeded alike
# (pytest-randomly, hypothesis) would otherwise pick the same ports in turn.
_RANDOM = random.SystemRandom()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now.

    A server is given its port before it binds it. A port from the kernel's
    ephemeral range (a bind to port 0) can meanwhile become the local port of
    any client connection on the machine, such as the other contract lane's
    requests and Redis clients, and the server then fails with "address already
    in use". A port below that range is never handed to a client, so only a
    server choosing the same port by chance can take it.
    """
    low, _ = _ephemeral_range()
    if low - _LOWEST >= 1000:
        for _ in range(100):
            port = _RANDOM.randrange(_LOWEST, low)
            if _bindable(port):
                return port
    return _kernel_port()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(field) for field in _EPHEMERAL.read_text().split())
    except (OSError, ValueError):
        return _DEFAULT_EPHEMERAL
    return low, high


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _kernel_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

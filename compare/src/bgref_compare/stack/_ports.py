"""Free loopback ports."""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    # Binding to port 0 lets the kernel pick; the small race until the server
    # binds it is acceptable for tests on one machine.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

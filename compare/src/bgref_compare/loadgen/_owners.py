"""Which server process holds each of our connections: the OS's view of the sockets.

A multi-process server (gunicorn) shares one listening socket between its
processes, and whichever process accepts a connection keeps it. The kernel wakes
them in a fixed order, so with the processes on one CPU nearly every connection
of a burst, and most of a slow series, lands in the same process (measured
against the Flask stack: 32 of 32 for a burst, 21 and 11 one at a time). The load
generator asks here who owns each connection and keeps a set that every process
holds an equal share of.
"""

from __future__ import annotations

from collections.abc import Iterable

import psutil

__all__ = ["connection_owners"]


def connection_owners(roots: Iterable[int], server_port: int) -> dict[int, int]:
    """Client port -> pid of the process (in the trees under ``roots``) that holds its socket.

    Only established connections to ``server_port`` count. Processes that vanish
    meanwhile, or that the OS does not let us inspect, are left out.
    """
    owners: dict[int, int] = {}
    for proc in _tree(roots):
        try:
            conns = proc.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        for conn in conns:
            if conn.status != psutil.CONN_ESTABLISHED or not conn.raddr:
                continue
            if conn.laddr.port == server_port:
                owners[conn.raddr.port] = proc.pid
    return owners


def _tree(roots: Iterable[int]) -> list[psutil.Process]:
    procs: dict[int, psutil.Process] = {}
    for pid in roots:
        try:
            root = psutil.Process(pid)
            procs[root.pid] = root
            for child in root.children(recursive=True):
                procs[child.pid] = child
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return list(procs.values())

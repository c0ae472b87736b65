"""Grouped jobs seen from outside: a burst sent as few, full jobs, and which process wrote what.

A worker queue's web sends the messages of concurrent requests as one job
(``Impl.messages_per_job``), one publish in flight at a time: what arrives
while Redis holds a publish goes out together in the next one. Which messages
share a job is otherwise up to the timing of the requests (a burst over
loopback is often four or five small jobs). ``send_in_few_jobs`` freezes Redis
while a burst arrives, so that it is one job in flight and the rest in the next
publish, split only where it holds more than a job carries.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import psutil

from bgref_compare import RedisServer, Stack, wait_until
from bgref_compare.faults import Burst
from bgref_linelog import read_messages

__all__ = ["GATHER", "Writers", "send_in_few_jobs"]

# How long Redis stays frozen at most while the burst reaches the web: well
# inside the web's one-second wait for a publish's reply, after which it
# would refuse the burst.
GATHER = 0.6
# How long the client may take to open its first connection.
ARRIVE = 10.0
_NEWLINE = ord("\n")


def _server_sockets(port: int) -> tuple[int, int]:
    """The connections that the server on loopback ``port`` holds: all, and those not yet read.

    The server's ends of established connections (``/proc/net/tcp``), with and
    without bytes waiting in their receive queue.
    """
    held = unread = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, queues = fields[1], fields[3], fields[4]
        if int(local.rpartition(":")[2], 16) == port and state == "01":
            held += 1
            unread += int(queues.partition(":")[2], 16) > 0
    return held, unread


def _waits_for_events(pid: int) -> bool:
    """Whether the main thread of ``pid`` waits in epoll: its event loop has nothing to run."""
    try:
        return "epoll" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


def send_in_few_jobs(stack: Stack, broker: RedisServer, messages: Sequence[str]) -> Burst:
    """Start a burst of ``messages`` with Redis frozen, and thaw it once the web has them all.

    The first publish waits in the frozen Redis; every request read meanwhile
    waits behind it and goes out in the next publish, as jobs of up to
    ``messages_per_job``. Redis is thawed once every request has been read and
    the web's event loop is idle (twice in a row: nothing left to run, each
    request awaiting its publish), or ``GATHER`` seconds after the first
    connection. Raises ``AssertionError`` if the burst was not all read by then.
    """
    web = stack.processes[stack.impl.web.name]
    burst = Burst(stack.base_url, messages, concurrency=len(messages))
    idle = 0

    def gathered() -> bool:
        nonlocal idle
        held, unread = _server_sockets(stack.port)
        everything_read = held >= len(messages) and not unread
        idle = idle + 1 if everything_read and _waits_for_events(web.pid) else 0
        return idle >= 2

    broker.pause()
    try:
        burst.start()
        # The web's wait for the first publish starts with the first request,
        # however long the client takes to open its connections.
        arrived = wait_until(lambda: _server_sockets(stack.port)[0], ARRIVE, interval=0.005)
        together = arrived and wait_until(gathered, GATHER, interval=0.005)
    finally:
        broker.resume()
    held, unread = _server_sockets(stack.port)
    assert together, (
        f"the web had not read the burst within {GATHER} s ({held} connections, "
        f"{unread} unread, {len(messages)} sent)"
    )
    return burst


class Writers:
    """Which process wrote which line of the stack's log, seen from outside.

    linelog appends each line with one ``O_APPEND`` write, on a descriptor of
    the writing process's own (each opens the file on its first write), so
    right after a write the descriptor's offset (``/proc/<pid>/fdinfo``) is
    the end of that line. Sampled more often than one process writes a line,
    the offsets name the process of each line; lines written at once by one
    process (awaited together) show only the last.
    """

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._log = os.path.realpath(stack.log_path)
        # The end offset of a line -> the process whose descriptor stood there.
        self._ends: dict[int, int] = {}

    def sample(self) -> None:
        """Note the offset of every process of the stack that holds the log open."""
        for proc in self._stack.processes.values():
            try:
                root = psutil.Process(proc.pid)
                family = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for member in family:
                try:
                    files = member.open_files()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                for file in files:
                    if os.path.realpath(file.path) == self._log:
                        self._ends[file.position] = member.pid

    def of(self, messages: set[str]) -> dict[str, int]:
        """The process seen writing each of ``messages`` (those that were seen).

        Call it once the log is settled: it reads the file twice.
        """
        data = self._stack.log_path.read_bytes()
        ends = [index + 1 for index, byte in enumerate(data) if byte == _NEWLINE]
        return {
            message: self._ends[end]
            for message, end in zip(read_messages(self._stack.log_path), ends, strict=True)
            if message in messages and end in self._ends
        }

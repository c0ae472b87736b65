"""A follower of the log file that stamps each new line with the time it was first seen."""

from __future__ import annotations

import os
import time

__all__ = ["LogTail"]


class LogTail:
    """Read the lines appended to a log file since the last poll, and stamp them.

    Only lines ``<prefix><seq>`` are stamped (in ``seen``, by sequence number,
    first sighting only). Polling every millisecond gives completion times to
    about a millisecond; ``gaps`` keeps the real intervals between polls so the
    resolution actually reached can be reported.
    """

    def __init__(self, path: str, prefix: str) -> None:
        self.path = path
        self._prefix = prefix.encode()
        self._fd = -1
        self._partial = b""
        self.seen: dict[int, float] = {}
        self.lines = 0
        self.foreign = 0
        self.gaps: list[float] = []
        self._last_poll = 0.0

    def poll(self, now: float | None = None) -> int:
        """Read what was appended; return how many new lines were found."""
        stamp = time.perf_counter() if now is None else now
        if self._last_poll:
            self.gaps.append(stamp - self._last_poll)
        self._last_poll = stamp
        if self._fd < 0:
            try:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return 0
        chunks = []
        while True:
            chunk = os.read(self._fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        if not chunks:
            return 0
        # Every line read now was in the file by now: an upper bound, at most a poll late.
        if now is None:
            stamp = time.perf_counter()
        data = self._partial + b"".join(chunks)
        *complete, self._partial = data.split(b"\n")
        prefix, cut, seen = self._prefix, len(self._prefix), self.seen
        for line in complete:
            if line.startswith(prefix) and line[cut:].isdigit():
                seen.setdefault(int(line[cut:]), stamp)
            else:
                self.foreign += 1
        self.lines += len(complete)
        return len(complete)

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

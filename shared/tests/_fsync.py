"""A stand-in for os.fsync that counts, slows down and fails on demand."""

from __future__ import annotations

import errno
import os
import threading
import time


class FsyncCounter:
    """Stands in for os.fsync: counts calls, makes each one take a while, fails on demand."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0
        self.failures = 0
        # Set when an fsync starts; while ``gate`` is given, fsyncs wait for it.
        self.entered = threading.Event()
        self.gate: threading.Event | None = None
        self._real = os.fsync

    def __call__(self, fd: int) -> None:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        time.sleep(self.seconds)
        if self.failures:
            self.failures -= 1
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        self._real(fd)

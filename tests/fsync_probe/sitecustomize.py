"""A probe of the contract suite: records every fsync of a process and of its forks.

Python imports ``sitecustomize`` at start-up from the first folder of its path
that holds one, so a server started with this folder first on ``PYTHONPATH``
and ``BGREF_TEST_FSYNC_LOG=<file>`` appends ``<size> <path>`` to that file after
each ``os.fsync`` or ``os.fdatasync`` that succeeded: the size the file had
when the call started (every byte below it is on disk once it returns) and
the file's path. The server's code is not changed; ``tests/test_settings.py``
uses it to check that ``LOG_FSYNC=1`` syncs each message. Without the variable
it does nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

_RECORD = os.environ.get("BGREF_TEST_FSYNC_LOG", "")


def _recording(sync: Callable[[Any], None]) -> Callable[[Any], None]:
    def recorded(fd: Any) -> None:
        # Like os.fsync: a descriptor, or an object with fileno().
        fd = fd if isinstance(fd, int) else fd.fileno()
        size = os.fstat(fd).st_size
        sync(fd)
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            path = "?"
        out = os.open(_RECORD, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(out, f"{size} {path}\n".encode())
        finally:
            os.close(out)

    return recorded


if _RECORD:
    # Replaced on the module before the server imports anything, so that every
    # caller's os.fsync (and a "from os import fsync" done later) is recorded.
    for _name in ("fsync", "fdatasync"):
        setattr(os, _name, _recording(getattr(os, _name)))

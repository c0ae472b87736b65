"""Line-atomic, injection-safe, fast append-only log writer (sync and async)."""

from __future__ import annotations

from ._errors import LogWriteError
from ._escape import escape, unescape
from ._handler import LogHandler
from ._reader import read_messages
from ._writer import LogWriter

__all__ = [
    "LogHandler",
    "LogWriteError",
    "LogWriter",
    "escape",
    "read_messages",
    "unescape",
]

"""A ``logging.Handler`` that writes each record as one escaped line through a ``LogWriter``."""

from __future__ import annotations

import asyncio
import logging
import os

from ._writer import LogWriter, _encode_line

__all__ = ["LogHandler"]


class LogHandler(logging.Handler):
    """Write each formatted record as one line of ``writer`` (or of a writer for ``path``).

    Unlike ``logging.FileHandler`` it takes no lock: a record's line is
    escaped (a message cannot forge or split lines) and appended whole with
    one ``os.write``, so lines from threads and processes never interleave,
    and a rotated file is reopened. A write that fails for a reason that may
    pass is held and retried in the background, within the writer's bounds.

    ``nonblocking=True`` is for event loops: a record logged on a thread that
    runs one joins the batch that the writer appends at the end of the loop
    iteration (``awrite_soon``'s), so the loop makes no system call per
    record; elsewhere records are written at once. A non-blocking handler
    cannot wait for an fsync, so it refuses a writer in fsync mode.

    Records of the ``bgref_linelog`` logger itself (a failing log file) are left to
    the other handlers: written through this one, they could go to the very
    file that fails.
    """

    def __init__(
        self,
        writer: LogWriter | str | os.PathLike[str] | None = None,
        *,
        nonblocking: bool = False,
        level: int | str = logging.NOTSET,
    ) -> None:
        super().__init__(level)
        self._owned = not isinstance(writer, LogWriter)
        if isinstance(writer, LogWriter):
            self.writer = writer
        else:
            # No simulated work (LOG_DELAY_MS) in a logging handler.
            self.writer = LogWriter(writer, delay_ms=0)
        if nonblocking and self.writer.fsync:
            raise ValueError(
                "a non-blocking LogHandler cannot wait for fsync; use nonblocking=False"
            )
        self.nonblocking = nonblocking

    def handle(self, record: logging.LogRecord) -> bool:
        """Filter and emit ``record``, without the lock that line atomicity makes moot."""
        # object: from Python 3.12 a filter may return a replacement record.
        checked: object = self.filter(record)
        if isinstance(checked, logging.LogRecord):
            record = checked
        if checked:
            self.emit(record)
        return bool(checked)

    def emit(self, record: logging.LogRecord) -> None:
        """Format ``record`` and write it as one line."""
        if record.name == "bgref_linelog":
            return
        try:
            message = self.format(record)
            if self.nonblocking:
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:
                    loop = None
                if loop is not None:
                    self.writer._queue_soon(_encode_line(message), loop)
                    return
            self.writer.write_soon(message)
        except RecursionError:  # as logging's own handlers do
            raise
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        """Close the writer if this handler made it (one passed in stays open)."""
        if self._owned:
            self.writer.close()
        super().close()

    def __repr__(self) -> str:
        level = logging.getLevelName(self.level)
        return f"<LogHandler {self.writer.path} ({level})>"

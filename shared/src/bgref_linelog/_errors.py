"""The exception raised when the log file cannot be written."""

from __future__ import annotations

__all__ = ["LogWriteError"]


class LogWriteError(OSError):
    """The log file could not be opened or written; ``filename`` is its path.

    It keeps the signature of ``OSError(errno, strerror, filename)`` so that it
    pickles, which Celery needs to report a failed task.
    """

    def __str__(self) -> str:
        reason = self.strerror or "unknown error"
        return f"cannot write log file {self.filename!r}: {reason}"

    @classmethod
    def from_os_error(cls, path: str, error: OSError) -> LogWriteError:
        """Wrap ``error``, raised while writing ``path``."""
        return cls(error.errno, error.strerror, path)

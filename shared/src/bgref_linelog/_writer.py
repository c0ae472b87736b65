"""The log writer: one escaped line per message, appended with a single system call."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from types import TracebackType

from ._backlog import Backlog, may_pass
from ._errors import LogWriteError
from ._escape import UNSAFE_BYTES, escape
from ._groupcommit import GroupCommit
from ._settings import (
    resolve_delay,
    resolve_fsync,
    resolve_path,
    resolve_retry_lines,
    resolve_retry_seconds,
)
from ._ticker import Ticker

__all__ = ["LogWriter"]

_os_write = os.write
_logger = logging.getLogger("bgref_linelog")
_NOT_PLAIN = b"\0"
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC

# Schedules the rotation checks of every writer in this process.
_TICKER = Ticker()
# Every live writer, so that a forked child can reset their locks in one hook.
_WRITERS: weakref.WeakSet[LogWriter] = weakref.WeakSet()


class LogWriter:
    """Append messages to a log file as escaped lines, from threads, coroutines and processes.

    ``path`` defaults to ``LOG_PATH`` or ``log.txt``; ``fsync`` to ``LOG_FSYNC``;
    ``delay_ms`` (simulated work before each write) to ``LOG_DELAY_MS``. The file is
    opened on the first write; whether the path still names it (log rotation) is
    checked again at most ``reopen_check`` seconds later, and after any error.
    ``write_soon`` and ``awrite_soon`` hold a line whose write failed for a
    reason that may pass, and retry it in the background: for at most
    ``retry_seconds`` (``LOG_RETRY_SECONDS``), at most ``retry_lines`` lines
    (``LOG_RETRY_LINES``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        fsync: bool | None = None,
        delay_ms: float | None = None,
        reopen_check: float = 0.01,
        retry_seconds: float | None = None,
        retry_lines: int | None = None,
    ) -> None:
        self._path = resolve_path(path)
        self._fsync = resolve_fsync(fsync)
        self._delay = resolve_delay(delay_ms)
        if not reopen_check >= 0:
            raise ValueError(f"reopen_check must be >= 0 seconds, not {reopen_check!r}")
        self._reopen_check = reopen_check
        self._slow = bool(self._delay or self._fsync)
        self._fd = -1
        self._finalizer: weakref.finalize[[int], LogWriter] | None = None
        self._identity = (0, 0)
        # _due: the next write must check the path first. _detour: the next
        # write must leave the fast path (a check is due, or delay or fsync is on).
        self._due = True
        self._detour = True
        self._group = GroupCommit()
        self._open_lock = threading.Lock()
        # Lines from awrite_soon, written together at the end of the loop iteration.
        self._queued: list[bytes] = []
        self._queue_lock = threading.Lock()
        self._batch_check_at = 0.0
        # Lines of write_soon and awrite_soon whose write failed for a reason that may pass.
        self._backlog = Backlog(
            self._path,
            resolve_retry_seconds(retry_seconds),
            resolve_retry_lines(retry_lines),
            _write_held_by(self),
        )
        _WRITERS.add(self)

    @property
    def path(self) -> str:
        """The absolute path of the log file."""
        return self._path

    @property
    def fsync(self) -> bool:
        """Whether each write waits for an fsync (shared with concurrent writers)."""
        return self._fsync

    @property
    def delay_ms(self) -> float:
        """The simulated work before each write, in milliseconds."""
        return self._delay * 1000

    @property
    def reopen_check(self) -> float:
        """The longest time, in seconds, that a rotated file may go unnoticed."""
        return self._reopen_check

    @property
    def retry_seconds(self) -> float:
        """The longest a line is held for a retry (0: not held)."""
        return self._backlog.max_seconds

    @property
    def retry_lines(self) -> int:
        """The most lines held for a retry at once (0: none)."""
        return self._backlog.max_lines

    @property
    def held(self) -> int:
        """How many lines are held for a retry now: while above 0, the log is not writable."""
        return len(self._backlog)

    @property
    def lost(self) -> int:
        """How many held lines were dropped (beyond a retry bound) since the writer was created."""
        return self._backlog.lost

    def write(self, message: str) -> None:
        """Sleep the simulated delay, then append ``message`` as one line (fsync if enabled)."""
        if self._detour:
            self._write_slow(message)
            return
        # The common case, with _encode_line inlined: every call and attribute
        # here shows in the writer/raw ratio of the benchmark (0.8 is the floor).
        try:
            line = message.encode()
        except UnicodeEncodeError:  # lone surrogates
            line = _NOT_PLAIN
        if line.translate(UNSAFE_BYTES) != line:
            line = escape(message).encode()
        data = line + b"\n"
        try:
            written = _os_write(self._fd, data)
        except OSError as error:
            raise self._failed(error) from error
        if written != len(data):
            self._finish(self._fd, data, written)

    def _write_slow(self, message: str) -> None:
        if self._delay:
            time.sleep(self._delay)
        if self._backlog:
            # Held lines go first: one try now, which succeeds if the path is back.
            self._backlog.attempt()
        if not self._fsync:
            self._append_line(message)
            return
        # The group commit writes the line: one os.write for every line of a batch.
        fd = self._current_fd()
        try:
            self._group.commit(fd, _encode_line(message))
        except OSError as error:
            raise self._failed(error) from error

    def write_soon(self, message: str) -> None:
        """Like ``write``, but hold the line for a background retry if the path fails for now.

        A failure that may pass (a missing folder, a directory in the way, a
        full disk, EIO, a permission, a read-only remount) holds the line,
        retried in the background within ``retry_seconds`` and
        ``retry_lines``, instead of raising; while lines are held, later lines
        queue behind them. Other failures raise ``LogWriteError``. With
        ``fsync``, or with a bound of 0, this is ``write``.
        """
        if self._fsync or not self._backlog.enabled:
            self.write(message)
            return
        if self._delay:
            time.sleep(self._delay)
        line = _encode_line(message)
        if self._backlog:
            self._backlog.hold((line,))
            return
        self._write_or_hold([line], self._current_fd)

    async def awrite(self, message: str) -> None:
        """Like ``write``, but awaits the delay and the fsync instead of blocking the loop."""
        if self._delay:
            await asyncio.sleep(self._delay)
        if self._backlog:
            self._backlog.attempt()
        if not self._fsync:
            self._append_line(message)
            return
        # Queued: the leader of the group commit writes it, off the event loop.
        fd = self._current_fd()
        ticket = self._group.queue(_encode_line(message))
        try:
            await self._group.async_sync(fd, ticket)
        except OSError as error:
            raise self._failed(error) from error

    async def awrite_soon(self, message: str) -> None:
        """Like ``awrite``, but return once the line is queued, without a system call.

        The lines queued during one event-loop iteration are appended together, in
        one ``os.write``, when it ends; ``close`` writes any still queued. A failure
        that may pass holds the lines for a retry, as ``write_soon`` does; any
        other is logged (logger ``bgref_linelog``, with the path and the number of
        lines), not raised. With ``fsync`` this is ``awrite``.
        """
        if self._fsync:
            await self.awrite(message)
            return
        if self._delay:
            await asyncio.sleep(self._delay)
        self._queue_soon(_encode_line(message), asyncio.get_running_loop())

    def _queue_soon(self, line: bytes, loop: asyncio.AbstractEventLoop) -> None:
        """Queue ``line`` for the batch that ``loop`` writes at the end of this iteration."""
        with self._queue_lock:
            self._queued.append(line)
            if len(self._queued) > 1:
                return  # the first line of the batch scheduled the flush
        loop.call_soon(self._flush_queued)

    def _flush_queued(self) -> None:
        with self._queue_lock:
            lines, self._queued = self._queued, []
        if not lines:
            return  # close() wrote them
        if self._backlog:
            self._backlog.hold(lines)
            return
        try:
            self._write_or_hold(lines, self._batch_fd)
        except LogWriteError:
            # Raised, it would reach the event loop's handler, which cannot tell
            # how many lines were lost.
            _logger.exception("%d queued lines were not written", len(lines))

    def _write_or_hold(self, lines: list[bytes], descriptor: Callable[[], int]) -> None:
        """Append ``lines`` with one ``os.write``, or hold them if it failed as a whole.

        Raises ``LogWriteError`` if the failure cannot pass (or the retry is
        off), and if the write failed after part of the data went out (a full
        disk): retrying would write that part twice.
        """
        data = b"".join(lines)
        try:
            fd = descriptor()
        except LogWriteError as error:
            failure = error
        else:
            try:
                written = _os_write(fd, data)
            except OSError as error:
                failure = self._failed(error)
                failure.__cause__ = error
            else:
                if written != len(data):
                    self._finish(fd, data, written)
                return
        if not (self._backlog.enabled and may_pass(failure)):
            raise failure
        self._backlog.hold(lines, failure)

    def _write_held(self, data: bytes) -> int:
        """Append held lines for the backlog; return how many bytes were written."""
        written = 0
        try:
            fd = self._batch_fd()
            while written < len(data):
                written += _os_write(fd, data[written:])
        except OSError as error:
            self._failed(error)
        return written

    def _batch_fd(self) -> int:
        """The descriptor for a batch, checking the path when ``reopen_check`` has passed."""
        # By the clock, once per batch, rather than through the ticker thread:
        # in a busy event loop its wake-ups and GIL hand-offs cost more.
        now = time.monotonic()
        if now < self._batch_check_at and self._fd >= 0:
            return self._fd
        with self._open_lock:
            self._reopen_if_moved()
        self._batch_check_at = now + self._reopen_check
        return self._fd

    def close(self) -> None:
        """Write any queued and held lines, then close the file; a later write opens it again.

        Held lines get one last try; those it cannot write are dropped, counted
        in ``lost`` and logged with the path.
        """
        self._flush_queued()
        self._backlog.close()
        if self._fsync and self._fd >= 0:
            # Lines of fsync-mode writers that stopped waiting (a cancelled awrite).
            count = self._group.pending
            try:
                self._group.flush(self._fd)
            except OSError as error:
                # Logged as awrite_soon's failures are, with the path.
                failure = self._failed(error)
                _logger.error("%d queued lines were not written", count, exc_info=failure)
        with self._open_lock:
            self._mark_due()
            if self._finalizer is not None:
                self._fd = -1
                self._finalizer()
                self._finalizer = None
            self._group.release()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LogWriter({self._path!r}, fsync={self._fsync}, delay_ms={self.delay_ms:g})"

    def _mark_due(self) -> None:
        """Make the next write check whether the path still names the open file."""
        # Order matters to the lock-free fast path: it reads only _detour.
        self._due = True
        self._detour = True

    def _append_line(self, message: str) -> None:
        """Append ``message`` as one line."""
        self._append(_encode_line(message), self._current_fd())

    def _current_fd(self) -> int:
        """The descriptor to write to, checking the path first if a check is due."""
        return self._check() if self._due else self._fd

    def _append(self, data: bytes, fd: int) -> None:
        """Append whole lines with one system call."""
        try:
            written = _os_write(fd, data)
        except OSError as error:
            raise self._failed(error) from error
        if written != len(data):
            self._finish(fd, data, written)

    def _finish(self, fd: int, data: bytes, written: int) -> None:
        # A regular file writes short only when it runs out of space. Finish the
        # line rather than leave it torn; if that fails, the error is raised.
        try:
            while written < len(data):
                written += _os_write(fd, data[written:])
        except OSError as error:
            raise self._failed(error) from error

    def _failed(self, error: OSError) -> LogWriteError:
        # Any error may mean the file was moved or removed: look again next time.
        self._batch_check_at = 0.0
        self._mark_due()
        return LogWriteError.from_os_error(self._path, error)

    def _check(self) -> int:
        """Open the file, or reopen it if the path no longer names the open file."""
        with self._open_lock:
            if self._due:
                self._reopen_if_moved()
                if self._reopen_check > 0 and _TICKER.schedule(self, self._reopen_check):
                    self._due = False
                    # While lines are held, write() leaves the fast path to try them first.
                    self._detour = self._slow or bool(self._backlog)
            return self._fd

    def _reopen_if_moved(self) -> None:
        """Open the file, or reopen it if the path no longer names it (open lock held)."""
        try:
            if self._fd < 0 or not self._is_current():
                self._open()
        except OSError as error:
            raise self._failed(error) from error

    def _is_current(self) -> bool:
        try:
            stat = os.stat(self._path)
        except FileNotFoundError:
            return False
        return (stat.st_dev, stat.st_ino) == self._identity

    def _open(self) -> None:
        fd = os.open(self._path, _FLAGS, 0o666)
        try:
            stat = os.fstat(fd)
            if self._fd < 0:
                self._fd = fd
                self._finalizer = weakref.finalize(self, os.close, fd)
                fd = -1
            else:
                if self._fsync:
                    # Lines already in the old file were promised an fsync of
                    # it: the next group commit does it (not here, which may be
                    # the event loop).
                    self._group.retire(os.dup(self._fd))
                # dup2 swaps the file behind the same descriptor number, so a
                # thread that already read the number never writes into a
                # closed or reused descriptor.
                os.dup2(fd, self._fd, inheritable=False)
        finally:
            if fd >= 0:
                os.close(fd)
        self._identity = (stat.st_dev, stat.st_ino)


def _encode_line(message: str) -> bytes:
    """``message`` as the UTF-8 bytes of its line, newline included."""
    try:
        line = message.encode()
    except UnicodeEncodeError:  # lone surrogates
        line = _NOT_PLAIN
    if line.translate(UNSAFE_BYTES) != line:
        line = escape(message).encode()
    return line + b"\n"


def _write_held_by(writer: LogWriter) -> Callable[[bytes], int]:
    """``writer._write_held`` without a reference that would keep the writer alive."""
    method = weakref.WeakMethod(writer._write_held)

    def write(data: bytes) -> int:
        bound = method()
        # A writer collected while lines were held cannot write them: they expire, counted.
        return bound(data) if bound is not None else 0

    return write


def _after_fork_in_child() -> None:
    # Locks held by parent threads at fork time would never be released in the
    # child, and the ticker thread does not exist there. The descriptor is
    # kept: O_APPEND makes the shared file description safe for both processes.
    _TICKER.reset()
    for writer in list(_WRITERS):
        writer._open_lock = threading.Lock()
        writer._group.reset()
        writer._queue_lock = threading.Lock()
        # The parent writes what it queued; the child must not write it again.
        writer._queued = []
        writer._backlog.reset()
        writer._mark_due()


os.register_at_fork(after_in_child=_after_fork_in_child)

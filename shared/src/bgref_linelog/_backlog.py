"""Lines whose write failed for a reason that may pass, held in order and retried."""

from __future__ import annotations

import errno
import functools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

__all__ = ["Backlog", "may_pass"]

_logger = logging.getLogger("bgref_linelog")

# Errors that go away without the program doing anything: the folder is
# recreated, the directory in the way removed, space freed, the disk or the
# permission fixed, the file system remounted read-write.
_MAY_PASS = frozenset(
    {
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EIO,
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
    }
)
# The first retry comes soon (a directory briefly in the way); then the delay
# doubles up to a ceiling, so that a path that comes back is noticed quickly.
_FIRST_DELAY = 0.01
_MAX_DELAY = 0.25


def may_pass(error: OSError) -> bool:
    """Whether ``error`` may go away by itself, so that a retry can succeed."""
    return error.errno in _MAY_PASS


class Backlog:
    """Lines held for a retry: at most ``max_lines`` of them, each for at most ``max_seconds``.

    ``write(data)`` tries to append whole lines and returns how many bytes it
    wrote (fewer than ``len(data)`` when it failed). A background thread,
    started by the first held line and ended when none is left, retries with
    backoff; the oldest line goes first. A line that would exceed
    ``max_lines`` is dropped on arrival, one held longer than ``max_seconds``
    when it expires; both are counted in ``lost``. An *episode* lasts from
    the first held line until none is left: its start is logged once (with
    the error), its end once (with how many lines it lost, if any).
    """

    def __init__(
        self,
        path: str,
        max_seconds: float,
        max_lines: int,
        write: Callable[[bytes], int],
        *,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.path = path
        self.max_seconds = max_seconds
        self.max_lines = max_lines
        self._write = write
        self._clock = clock
        self._background = background
        # Lines dropped since the writer was created.
        self.lost = 0
        self.reset()

    def reset(self) -> None:
        """Forget the held lines and the thread: in a forked child, the parent writes them."""
        self._lock = threading.Lock()
        # Held during a write attempt: the retry thread and close() never write at once.
        self._attempt_lock = threading.Lock()
        # (expiry time, line), oldest first.
        self._held: deque[tuple[float, bytes]] = deque()
        # Bytes of the first held line already written (a short write on a full disk).
        self._head_written = 0
        self._episode = False
        self._episode_failed = False
        self._episode_lost = 0
        self._episode_written = 0
        self._attempts = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def enabled(self) -> bool:
        """Whether lines are held at all (both bounds above zero)."""
        return self.max_seconds > 0 and self.max_lines > 0

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, lines: Sequence[bytes], error: OSError | None = None) -> None:
        """Keep ``lines`` (each ending in a newline) for a retry, after any already held.

        ``error`` is the failure that made the caller hold them (None when it
        holds them only to keep them behind older lines).
        """
        with self._lock:
            if not self._episode:
                self._episode = True
                self._episode_lost = self._episode_written = self._attempts = 0
                self._episode_failed = False
            # Lines held only to stay behind others (no error) may find the
            # others just written: then the episode has nothing to report.
            starts = error is not None and not self._episode_failed
            self._episode_failed = self._episode_failed or error is not None
            expiry = self._clock() + self.max_seconds
            room = max(self.max_lines - len(self._held), 0)
            # The newest lines are the ones beyond the bound: the held ones stay first.
            self._held.extend((expiry, line) for line in lines[:room])
            self._drop(len(lines) - min(room, len(lines)))
            thread = None
            if self._background and self._thread is None:
                thread = self._thread = threading.Thread(target=self._run, name="linelog-retry")
                thread.daemon = True
        # Logged without the lock: a handler may write to this very writer.
        if starts:
            _logger.warning(
                "cannot write %s; holding lines to retry for up to %g s (at most %d lines)",
                self.path,
                self.max_seconds,
                self.max_lines,
                exc_info=error,
            )
        if thread is not None:
            try:
                thread.start()
            except RuntimeError:
                # No new threads while the interpreter shuts down: close() tries.
                with self._lock:
                    self._thread = None

    def attempt(self) -> float | None:
        """Write the held lines, dropping those held too long; the delay before the next try.

        None means nothing is held any more: the episode is over (and logged).
        """
        with self._attempt_lock:
            with self._lock:
                self._expire(self._clock())
                lines = [line for _, line in self._held]
                skip = self._head_written
            if lines:
                data = b"".join(lines)
                written = self._write(data[skip:] if skip else data)
                with self._lock:
                    self._consume(skip + written)
            with self._lock:
                if self._held:
                    self._attempts += 1
                    delay: float = min(_FIRST_DELAY * 2.0 ** (self._attempts - 1), _MAX_DELAY)
                    # Wake no later than the oldest line expires.
                    return max(min(delay, self._held[0][0] - self._clock()), 0.0)
                outcome = self._end_episode()
        outcome()
        return None

    def close(self) -> int:
        """Stop the retry thread, make one last try, drop what is left; return how many."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            self._stop.set()
            thread.join()
            self._stop.clear()
        with self._lock:
            # The last try is for every line, however long it has waited.
            self._held = deque((math.inf, line) for _, line in self._held)
        self.attempt()
        with self._lock:
            left = len(self._held)
            if left:
                self._held.clear()
                self._head_written = 0
                self._drop(left)
            outcome = self._end_episode(closing=True)
        outcome()
        return left

    def _run(self) -> None:
        while True:
            delay = self.attempt()
            with self._lock:
                if delay is None and self._held:
                    continue  # held after the attempt looked: try again at once
                if delay is None or self._stop.is_set():
                    self._thread = None
                    return
            if self._stop.wait(delay):
                # close() makes the last try itself.
                with self._lock:
                    self._thread = None
                return

    def _drop(self, count: int) -> None:
        self.lost += count
        self._episode_lost += count

    def _expire(self, now: float) -> None:
        # A line partly written is finished rather than torn, however old it is.
        head = [self._held.popleft()] if self._head_written else []
        expired = 0
        while self._held and self._held[0][0] <= now:
            self._held.popleft()
            expired += 1
        self._held.extendleft(head)
        self._drop(expired)

    def _consume(self, written: int) -> None:
        while self._held and written >= len(self._held[0][1]):
            written -= len(self._held.popleft()[1])
            self._episode_written += 1
        self._head_written = written

    def _end_episode(self, *, closing: bool = False) -> Callable[[], None]:
        """End the episode (lock held); return what logs its outcome, to call without the lock."""
        if not self._episode:
            return _nothing
        self._episode = False
        if not self._episode_failed and not self._episode_lost:
            return _nothing
        if not self._episode_lost:
            return functools.partial(
                _logger.warning, "wrote the %d held lines to %s", self._episode_written, self.path
            )
        return functools.partial(
            _logger.error,
            "%d lines not written to %s: beyond the retry bound (%g s, %d lines)%s",
            self._episode_lost,
            self.path,
            self.max_seconds,
            self.max_lines,
            ", or still failing at close()" if closing else "",
        )


def _nothing() -> None:
    pass

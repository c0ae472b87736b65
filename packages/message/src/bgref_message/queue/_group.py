"""A group as a worker writes it: in order, the rest handed on when slow, or retried on failure.

Each worker queue's web front sends the messages of concurrent requests as one
job (a group). The worker writes them one after the other through its writer;
this is that loop, once for every queue. What it leaves to the queue is how to
queue the rest elsewhere (``hand_off``) and how to retry it (``GroupWriteFailed``
carries the messages not yet written): each queue does both its own way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

__all__ = ["MAX_GROUP", "SLICE", "GroupWriteFailed", "split", "write_group"]

# At most this many messages ride in one job, in every queue: enough to spread a
# queue's fixed cost per job thin, few enough that a worker killed mid-job redoes
# little (a job run twice can duplicate at most this many). Workers refuse a
# larger job: the web never sends one.
MAX_GROUP = 32

# After this long on one group (slow writes), a worker hands the rest to the
# others: a group is cheap to write in one job while its writes are fast, but
# when each takes 50 ms one worker writing all of it leaves the others idle.
SLICE = 0.2


class GroupWriteFailed(Exception):
    """A write of a group failed: ``written`` messages landed, ``rest`` did not.

    ``rest`` starts with the message whose write failed; ``error`` is that
    write's ``OSError``, also the exception's ``__cause__``. Retrying ``rest``
    alone loses none and writes none twice.
    """

    def __init__(self, written: int, rest: list[str], error: OSError) -> None:
        # All three in ``args``: it pickles, should a queue ever carry it.
        super().__init__(written, rest, error)
        self.written = written
        self.rest = rest
        self.error = error

    def __str__(self) -> str:
        # Counts only: the users' messages stay out of the log, and the path is
        # named once, by the chained error's own traceback.
        total = self.written + len(self.rest)
        return f"{self.written} of {total} messages written, {len(self.rest)} left"


def write_group(
    messages: Sequence[str],
    write: Callable[[str], object],
    hand_off: Callable[[list[str]], bool],
    *,
    slice_seconds: float = SLICE,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Write each message with ``write``, in order; hand off or raise for the rest.

    Once ``slice_seconds`` have passed since the first write and more than one
    message is left, ``hand_off(rest)`` is tried before each write: True means
    another worker has the rest, and this one stops; False (the broker did not
    take them) means it writes on, and tries again before the next. A write's
    ``OSError`` raises ``GroupWriteFailed`` from it.
    """
    started = clock()
    for done, message in enumerate(messages):
        if (
            done
            and len(messages) - done > 1
            and clock() - started > slice_seconds
            and hand_off(list(messages[done:]))
        ):
            return
        try:
            write(message)
        except OSError as error:
            raise GroupWriteFailed(done, list(messages[done:]), error) from error


def split(rest: Sequence[str], pieces: int) -> list[list[str]]:
    """``rest`` in order, cut into at most ``pieces`` runs of equal length (the last shorter).

    One piece for each worker that could take one; never an empty piece.
    """
    if not rest:
        return []
    pieces = max(1, min(len(rest), pieces))
    size = -(-len(rest) // pieces)
    return [list(rest[start : start + size]) for start in range(0, len(rest), size)]

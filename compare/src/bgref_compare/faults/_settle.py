"""Waiting for a stack to finish the work it acknowledged, then reading the log back."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection, Sequence
from pathlib import Path

from bgref_compare.stack._polling import wait_until
from bgref_compare.stack._rawredis import broker_idle
from bgref_compare.stack._stack import Stack
from bgref_linelog import read_messages

from ._burst import Answer
from ._ledger import Ledger

__all__ = ["settle", "wait_written", "written"]


def written(*paths: Path) -> list[str]:
    """Every message in the given log files (missing or unreadable ones hold none)."""
    messages: list[str] = []
    for path in paths:
        if path.is_file():
            # The file may turn into a directory meanwhile: a fault's doing.
            with contextlib.suppress(OSError):
                messages.extend(read_messages(path))
    return messages


def wait_written(
    stack: Stack,
    acknowledged: Collection[str],
    timeout: float,
    *,
    paths: Sequence[Path] = (),
    quiet: float | None = None,
    interval: float = 0.1,
) -> list[str]:
    """Wait for the ``acknowledged`` messages to be written; return the messages in the logs.

    The logs are the stack's and ``paths``. The wait ends early once no process
    of the stack is left to do the work (a crashed in-process server). With a
    broker, it goes on until the broker has handed out every message and had
    each one acknowledged, so that a message coming back after a crash is
    counted as the duplicate it is. With ``quiet``, it also ends once the log
    has not grown for that many seconds, where nothing would write a lost line
    later: an approach that retries failed writes without a bound
    (``retries_writes`` and not ``holds_writes``) keeps waiting while all its
    processes run and its broker holds a message.
    """
    files = (stack.log_path, *paths)
    wanted = set(acknowledged)
    broker = stack.env.get("REDIS_URL")
    impl = stack.impl
    unbounded = impl.retries_writes and not impl.holds_writes
    last = [-1, time.monotonic()]

    def done() -> bool:
        alive = [proc.running for proc in stack.processes.values()]
        if not any(alive):
            return True
        messages = written(*files)
        if wanted <= set(messages):
            return broker is None or broker_idle(broker, impl)
        if quiet is None:
            return False
        if unbounded and all(alive) and not (broker and broker_idle(broker, impl)):
            # Its retry may still write. With the broker idle (nothing queued,
            # nothing taken and unacknowledged) no message comes back, and a task
            # acknowledged early and killed (Celery's default) is gone for good.
            return False
        now = time.monotonic()
        if len(messages) != last[0]:
            last[:] = [len(messages), now]
            return False
        return now - last[1] >= quiet

    wait_until(done, timeout, interval=interval)
    return written(*files)


def settle(
    stack: Stack, answers: Sequence[Answer], timeout: float, *, paths: Sequence[Path] = ()
) -> Ledger:
    """Wait for the acknowledged work to be written (``wait_written``); account the answers."""
    acknowledged = {answer.message for answer in answers if answer.status == 200}
    return Ledger.of(answers, wait_written(stack, acknowledged, timeout, paths=paths))

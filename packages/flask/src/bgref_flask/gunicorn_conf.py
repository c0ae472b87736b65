"""Gunicorn settings for bgref_flask: gthread workers whose work pools drain before exiting.

Used as ``gunicorn --config python:bgref_flask.gunicorn_conf 'bgref_flask:create_app()'``;
options given on the command line override the values here.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from flask import Flask

from ._app import drain

# One process per core, since the GIL runs one thread of a process at a time, and
# a few request threads each so a slow client does not hold up a whole process.
# Each process also runs its own BGREF_WORKERS pool threads for the writes.
worker_class = "gthread"
workers = 2
threads = 4

# The default 4094-byte request line refuses a valid 1,000-emoji message (about
# 12 KB percent-encoded); 0 lifts the limit, the only setting above 8190.
limit_request_line = 0

# On SIGTERM a worker first finishes its open requests (and keeps kept-alive
# connections open up to 2 s more), then drains its pool in worker_exit; the
# master SIGKILLs whatever is still running this long after its signal, so the
# drain gets what is left of it (see _drain_budget).
graceful_timeout = 30

# What the drain leaves of the master's deadline to log what it could not write:
# the worker sees the signal a little after the master starts its clock, and a
# log line written after the SIGKILL is never written.
LOG_MARGIN_S = 1.0

# When (time.monotonic()) this worker process was told to stop, if it was.
_stop_signalled: float | None = None

# The heartbeat stops before worker_exit runs, so a worker draining after a
# --max-requests recycle must not look hung before graceful_timeout is spent.
timeout = graceful_timeout + 30

# Gunicorn 25.1+ opens a control socket at one per-user path by default, so two
# servers on the machine (parallel tests, the comparison harness) would fight over it.
control_socket_disable = True


def post_worker_init(worker: Any) -> None:
    """Note the moment a stop signal arrives, before gunicorn's own handler runs."""
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(signum, _stamped(signal.getsignal(signum)))


def _stamped(handler: Any) -> Callable[[int, FrameType | None], None]:
    def stamp(signum: int, frame: FrameType | None) -> None:
        global _stop_signalled
        if _stop_signalled is None:
            _stop_signalled = time.monotonic()
        if callable(handler):
            handler(signum, frame)

    return stamp


def _drain_budget(graceful: float, now: float) -> float:
    """Seconds the drain may take so that its outcome is logged before the master's SIGKILL.

    After a stop signal the master kills the worker ``graceful`` seconds later,
    however much of that the open requests and the kept-alive connections used
    up. A ``--max-requests`` recycle has no signal: the master's heartbeat
    timeout (``timeout``, 30 s more than ``graceful``) then bounds the exit.
    """
    margin = min(LOG_MARGIN_S, graceful / 4)
    if _stop_signalled is None:
        return max(graceful - margin, 0.0)
    return max(_stop_signalled + graceful - margin - now, 0.0)


def worker_exit(server: Any, worker: Any) -> None:
    """Write every queued message before the worker exits; log what the deadline leaves."""
    app = getattr(worker, "wsgi", None)
    # None in the master (which calls this hook for a worker that vanished) and
    # in a worker whose app failed to load: there is no pool to drain.
    if not isinstance(app, Flask):
        return
    started = time.monotonic()
    graceful = float(worker.cfg.graceful_timeout)
    left = drain(app, timeout=_drain_budget(graceful, started))
    elapsed = time.monotonic() - started
    if left:
        # The pool threads go on writing until the process is killed; this is
        # the most that can be lost, logged while there is still time to.
        worker.log.error(
            "work pool not drained: %d acknowledged messages unwritten after %.1f s "
            "of draining (graceful_timeout %g s); those still queued at the "
            "master's SIGKILL are lost",
            left,
            elapsed,
            graceful,
        )
    else:
        worker.log.info("work pool drained in %.2f s", elapsed)

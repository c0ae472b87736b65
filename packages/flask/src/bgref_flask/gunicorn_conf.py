"""Gunicorn settings for bgref_flask: gthread workers whose work pools drain before exiting.

Used as ``gunicorn --config python:bgref_flask.gunicorn_conf 'bgref_flask:create_app()'``;
options given on the command line override the values here.
"""

from __future__ import annotations

import time
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

# On SIGTERM a worker first finishes its open requests, then drains its pool in
# worker_exit; the master SIGKILLs whatever is still running after this long.
graceful_timeout = 30

# The heartbeat stops before worker_exit runs, so a worker draining after a
# --max-requests recycle must not look hung before graceful_timeout is spent.
timeout = graceful_timeout + 30

# Gunicorn 25.1+ opens a control socket at one per-user path by default, so two
# servers on the machine (parallel tests, the comparison harness) would fight over it.
control_socket_disable = True


def worker_exit(server: Any, worker: Any) -> None:
    """Write every queued message before the worker process exits, within graceful_timeout."""
    app = getattr(worker, "wsgi", None)
    # None in the master (which calls this hook for a worker that vanished) and
    # in a worker whose app failed to load: there is no pool to drain.
    if not isinstance(app, Flask):
        return
    started = time.monotonic()
    left = drain(app, timeout=worker.cfg.graceful_timeout)
    elapsed = time.monotonic() - started
    if left:
        worker.log.error(
            "work pool not drained: %d acknowledged messages unwritten after %.1f s",
            left,
            elapsed,
        )
    else:
        worker.log.info("work pool drained in %.2f s", elapsed)

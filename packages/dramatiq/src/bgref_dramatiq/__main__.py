"""``python -m bgref_dramatiq``: Dramatiq's own worker command, sized from the environment.

The same as ``dramatiq bgref_dramatiq.worker:broker --processes N --threads T``
with ``dramatiq_queue_prefetch=T`` and ``dramatiq_worker_timeout=100`` in the
environment, N from ``BGREF_WORKERS`` and T from ``BGREF_THREADS``: Dramatiq
reads its pool size from the command line only, its prefetch and its idle
poll from the environment only.
"""

from __future__ import annotations

import os
import sys

from ._settings import Settings

# Dramatiq's worker_timeout, in ms: how long an idle consumer sleeps at most.
WORKER_TIMEOUT_MS = 100


def main() -> int:
    """Run ``dramatiq`` with the worker module and the pool size from the environment."""
    settings = Settings.from_env()
    # Dramatiq prefetches two messages per worker thread by default: with one
    # thread, a process holds a second message that an idle process could be
    # working on (4 messages on 3 processes: 2 at work, one process idle), and
    # a process that dies strands it until the heartbeat timeout. One per
    # thread, as Celery's worker_prefetch_multiplier=1. Read when
    # dramatiq.worker is imported, hence before the import below.
    os.environ.setdefault("dramatiq_queue_prefetch", str(settings.threads))
    # An idle consumer backs off between fetches up to the worker timeout
    # (Dramatiq's default 1,000 ms): the pieces of a slow group handed off by a
    # busy process waited up to a second for the idle ones to look, and 4
    # workers with 50 ms of work did 28 messages/s, 35% of linear. At 100 ms an
    # idle process polls about 20 times a second (its queue and its delay
    # queue): a fraction of a percent of a CPU.
    os.environ.setdefault("dramatiq_worker_timeout", str(WORKER_TIMEOUT_MS))
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    # Imported once here, before Dramatiq forks its worker processes: each of
    # them then imports only the worker module itself (which makes its own
    # broker, with an id of its own), not redis-py, Dramatiq and the writer
    # again, which took seconds on a loaded 2-core machine before any was ready.
    from . import _actor  # noqa: F401

    argv = [
        "bgref_dramatiq.worker:broker",
        *("--processes", str(settings.workers)),
        *("--threads", str(settings.threads)),
        *sys.argv[1:],
    ]
    # Dramatiq's CLI is untyped.
    parser = make_argument_parser()  # type: ignore[no-untyped-call]
    code: int = dramatiq_main(parser.parse_args(argv))  # type: ignore[no-untyped-call]
    return code


if __name__ == "__main__":
    sys.exit(main())

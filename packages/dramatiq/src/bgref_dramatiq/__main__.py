"""``python -m bgref_dramatiq``: Dramatiq's own worker command, sized from the environment.

The same as ``dramatiq bgref_dramatiq.worker:broker --processes N --threads T``
with ``dramatiq_queue_prefetch=T`` in the environment, N from ``BGREF_WORKERS``
and T from ``BGREF_THREADS``: Dramatiq reads its pool size from the command
line only, and its prefetch from the environment only.
"""

from __future__ import annotations

import os
import sys

from ._settings import Settings


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

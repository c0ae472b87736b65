"""The load generator: closed- and open-loop phases over keep-alive connections, in a process.

It runs as ``python -m bgref_compare.loadgen._loadgen``: a ``LoadSpec`` as JSON on stdin,
the phases' results as JSON on stdout. It pins itself to one CPU, uses uvloop
when it is installed, and follows the log file to stamp every message's
completion on the same clock as the send times.

This module is the process around the run: the spec is ``_spec``, the run loop
``_runner`` and the results ``_summary``; it re-exports their public names.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from ._runner import LoadRunner
from ._spec import LoadSpec, Phase

__all__ = ["LoadRunner", "LoadSpec", "Phase", "allow_connections", "main", "run_spec"]


def run_spec(spec: LoadSpec) -> dict[str, Any]:
    """Run ``spec`` in this process (pinned, on uvloop if available) and return its results."""
    if spec.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {spec.cpu})
    allow_connections(max((p.concurrency for p in spec.phases), default=0))
    runner = LoadRunner(spec)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(runner.run())
    return uvloop.run(runner.run())


def allow_connections(count: int) -> None:
    """Raise this process's soft limit on open files to fit ``count`` connections.

    Within the hard limit, which only root may raise. The concurrency sweep opens
    512 connections; the usual soft limit is 1,024 on Linux and 256 on macOS.
    """
    try:
        import resource
    except ImportError:  # not POSIX: nothing to raise
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # The log, the pipes, and connections that are closing hold descriptors too.
    want = count + 64
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard)
    )


def main() -> None:
    """Read a spec on stdin, run it, print the results on stdout."""
    spec = LoadSpec.from_json(sys.stdin.read())
    json.dump(run_spec(spec), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

"""Run one implementation by hand, with a private Redis if it needs one."""

from __future__ import annotations

import contextlib
import signal
import tempfile
import threading
from pathlib import Path

from bgref_compare.registry import get

from ._redis import masked, redis_service
from ._stack import Stack

__all__ = ["serve"]


def serve(impl_id: str, *, port: int, log_path: Path) -> None:
    """Start ``impl_id`` on ``port`` and keep it running until SIGINT or SIGTERM."""
    impl = get(impl_id)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with contextlib.ExitStack() as resources:
        redis_url = None
        if impl.needs_redis:
            redis_url, server = resources.enter_context(redis_service())
            origin = "private redis-server" if server else "REDIS_URL"
            print(f"redis: {masked(redis_url)} ({origin})", flush=True)
        workdir = Path(resources.enter_context(tempfile.TemporaryDirectory(prefix="bgref-")))
        stack = Stack(impl, workdir, log_path=log_path.resolve(), redis_url=redis_url, port=port)
        resources.enter_context(stack)
        print(f"{impl.id}: {stack.base_url}  (log: {stack.log_path})", flush=True)
        print("Ctrl-C stops it.", flush=True)
        while not stop.wait(1.0):
            if not all(proc.running for proc in stack.processes.values()):
                print(stack.output(), flush=True)
                raise SystemExit(f"{impl.id}: a process exited")

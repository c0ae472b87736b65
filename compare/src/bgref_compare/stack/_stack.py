"""The running processes of one implementation, started from its registry entry."""

from __future__ import annotations

import contextlib
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from bgref_compare.registry import Impl

from ._polling import wait_until
from ._ports import free_port
from ._process import ManagedProcess

__all__ = ["Stack", "StackError"]


class StackError(RuntimeError):
    """An implementation's process did not start or did not become ready."""


@contextlib.contextmanager
def _cpu_affinity(cpus: frozenset[int] | None) -> Iterator[None]:
    # A child inherits the CPU set of the thread that forks it, so pinning this
    # thread around Popen pins the server and every process it forks later.
    if cpus is None or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


class Stack:
    """Start an implementation's processes on a free port; stop every one of them."""

    def __init__(
        self,
        impl: Impl,
        workdir: Path,
        *,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        redis_url: str | None = None,
        port: int | None = None,
        cpus: frozenset[int] | None = None,
        ready_timeout: float = 60.0,
        python: str = sys.executable,
    ) -> None:
        if impl.needs_redis and not redis_url:
            raise StackError(f"{impl.id} needs a Redis URL")
        self.impl = impl
        self.workdir = workdir
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or workdir / "log.txt"
        self.cpus = cpus
        self.ready_timeout = ready_timeout
        # The interpreter that runs the processes (``{python}``): this one, or
        # that of an environment the implementation was installed into alone.
        self.python = python
        self.env = {
            **os.environ,
            "LOG_PATH": str(self.log_path),
            # Tracebacks and banners reach the output file as they happen.
            "PYTHONUNBUFFERED": "1",
            **({"REDIS_URL": redis_url} if redis_url else {}),
            **(env or {}),
        }
        self.processes: dict[str, ManagedProcess] = {}

    def __getitem__(self, name: str) -> ManagedProcess:
        return self.processes[name]

    def start(self) -> None:
        """Start every process in registry order, each one ready before the next."""
        try:
            for proc in self.impl.processes:
                self.start_process(proc.name)
        except BaseException:
            self.stop()
            raise

    def start_process(self, name: str) -> ManagedProcess:
        """Start (or start again) one process and wait until it is ready."""
        spec = next(p for p in self.impl.processes if p.name == name)
        old = self.processes.get(name)
        if old is not None:
            old.stop()
        argv = [arg.format(python=self.python, port=self.port) for arg in spec.argv]
        output = self.workdir / f"{self.impl.id}-{name}.out"
        # In the stack's own folder: a relative path (LOG_PATH's default, say)
        # lands there, never in the caller's working directory.
        proc = ManagedProcess(name, argv, env=self.env, output=output, cwd=self.workdir)
        already = len(proc.output())
        with _cpu_affinity(self.cpus):
            proc.start()
        self.processes[name] = proc

        if spec.ready == "http":
            ready = self.healthy
        elif spec.ready.startswith("output:"):
            marker = spec.ready.removeprefix("output:")

            def ready() -> bool:
                return marker in proc.output()[already:]

        else:  # pragma: no cover - a registry mistake
            raise StackError(f"unknown readiness check {spec.ready!r}")
        if not wait_until(lambda: not proc.running or ready(), self.ready_timeout):
            raise StackError(f"{self.impl.id}/{name} not ready:\n{proc.output()[already:]}")
        if not proc.running:
            raise StackError(f"{self.impl.id}/{name} exited:\n{proc.output()[already:]}")
        return proc

    def healthy(self) -> bool:
        """Whether ``GET /healthz`` answers 200 right now."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as resp:
                return bool(resp.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every process gracefully, the web front first so no new work arrives."""
        for proc in self.processes.values():
            proc.stop(timeout)

    def output(self) -> str:
        """The combined output of every process, for failure messages."""
        return "\n".join(
            f"--- {name} ---\n{proc.output()}" for name, proc in self.processes.items()
        )

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

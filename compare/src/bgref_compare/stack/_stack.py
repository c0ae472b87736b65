"""The running processes of one implementation, started from its registry entry."""

from __future__ import annotations

import contextlib
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Starting:
    """A process just started, with the check that tells it ready."""

    proc: ManagedProcess
    ready: Callable[[], bool]
    # Its output file's length before it started: a restart appends to the file.
    already: int

    def output(self) -> str:
        """What the process printed since it started."""
        return self.proc.output()[self.already :]


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
        """Start every process, all at once, and wait until each one is ready.

        The processes of a stack only meet through its broker, so none waits for
        another: started together they import and connect at the same time (on
        two cores a Celery stack is up in the time of its slower process, not of
        both), and the first one to exit fails the start with its output.
        """
        try:
            starting = [self._launch(proc.name) for proc in self.impl.processes]
            self._wait_ready(starting)
        except BaseException:
            self.stop()
            raise

    def start_process(self, name: str) -> ManagedProcess:
        """Start (or start again) one process and wait until it is ready."""
        starting = self._launch(name)
        self._wait_ready([starting])
        return starting.proc

    def _launch(self, name: str) -> _Starting:
        """Start one process (stopping an old one first); return it with its readiness check."""
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
        return _Starting(proc, ready, already)

    def _wait_ready(self, starting: list[_Starting]) -> None:
        """Wait until every process is ready; raise at once if one exits, else at the timeout."""
        pending = list(starting)

        def settled() -> bool:
            # A process that exited ends the wait: its output says why.
            if any(not item.proc.running for item in starting):
                return True
            pending[:] = [item for item in pending if not item.ready()]
            return not pending

        done = wait_until(settled, self.ready_timeout)
        for item in starting:
            if not item.proc.running:
                raise StackError(f"{self.impl.id}/{item.proc.name} exited:\n{item.output()}")
        if not done:
            item = pending[0]
            raise StackError(f"{self.impl.id}/{item.proc.name} not ready:\n{item.output()}")

    def healthy(self) -> bool:
        """Whether ``GET /healthz`` answers 200 right now."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as resp:
                return bool(resp.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every process gracefully, the web front first so no new work arrives.

        Each has ``timeout`` seconds after its SIGTERM before its process group
        is killed; ``timeout=0`` kills at once.
        """
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

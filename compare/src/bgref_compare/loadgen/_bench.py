"""The test bench: CPU placement, an implementation's stack, and a load-generator run on it."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil

from bgref_compare.registry import Impl
from bgref_compare.stack._memory import MemorySampler
from bgref_compare.stack._polling import wait_until
from bgref_compare.stack._redis import RedisServer
from bgref_compare.stack._stack import Stack

from ._spec import LoadSpec

__all__ = ["Bench", "CpuPlan", "LoadGenError", "LoadOutcome", "RunningStack", "new_run_id"]


@dataclass(frozen=True)
class CpuPlan:
    """Which CPU the load generator gets and which the servers get (None: no pinning)."""

    loadgen: int | None
    servers: frozenset[int] | None

    @classmethod
    def detect(cls) -> CpuPlan:
        """Generator on the first available CPU, servers on the second; no pinning below two."""
        if not hasattr(os, "sched_getaffinity"):
            return cls(None, None)
        available = sorted(os.sched_getaffinity(0))
        if len(available) < 2:
            return cls(None, None)
        return cls(available[0], frozenset({available[1]}))

    def describe(self) -> dict[str, Any]:
        """As plain data for the results' metadata."""
        return {
            "loadgen": self.loadgen,
            "servers": sorted(self.servers) if self.servers is not None else None,
            "pinned": self.loadgen is not None,
        }


# How long a multi-process web server may take to fork its other processes.
_FORK_WAIT_S = 10.0


@dataclass
class RunningStack:
    """A started implementation: its stack (processes, log file) and its private Redis."""

    stack: Stack
    redis: RedisServer | None

    @property
    def impl(self) -> Impl:
        """The implementation that runs."""
        return self.stack.impl

    @property
    def log_path(self) -> Path:
        """Where it writes."""
        return self.stack.log_path

    def pids(self) -> list[int]:
        """Every process of the implementation that is running, the broker included."""
        procs = [p for p in self.stack.processes.values() if p.running]
        if self.redis is not None and self.redis.process.running:
            procs.append(self.redis.process)
        return [p.pid for p in procs]

    def named_pids(self) -> tuple[tuple[str, int], ...]:
        """Each process by its registry name, its descendants as ``<name> child``, and Redis.

        A web server of several processes answers once its first one does
        (gunicorn forks the others meanwhile): wait, a few seconds at most, for
        all of them, or their CPU goes unread. Measured 2026-12-02: a throughput
        run read one of Flask's two gunicorn processes, "45% busy" on every path.
        """
        web = self.stack.processes.get(self.impl.web.name)
        if web is not None and self.impl.web_processes > 1:

            def forked() -> bool:
                with contextlib.suppress(psutil.Error):
                    return len(psutil.Process(web.pid).children()) >= self.impl.web_processes
                return True

            wait_until(forked, _FORK_WAIT_S, 0.05)
        named: list[tuple[str, int]] = []
        for name, managed in self.stack.processes.items():
            if not managed.running:
                continue
            with contextlib.suppress(psutil.Error):
                named.append((name, managed.pid))
                for child in psutil.Process(managed.pid).children(recursive=True):
                    named.append((f"{name} child", child.pid))
        if self.redis is not None and self.redis.process.running:
            named.append(("redis", self.redis.process.pid))
        return tuple(named)


@dataclass(frozen=True)
class LoadOutcome:
    """What one load-generator run found, and the stack's peak memory meanwhile."""

    data: dict[str, Any]
    peak_rss_mb: float
    peak_pss_mb: float | None
    # The most threads the stack's processes ran at once (a thread per request shows here).
    peak_threads: int = 0

    @property
    def phases(self) -> list[dict[str, Any]]:
        """One result per phase, in order."""
        return list(self.data["phases"])


class LoadGenError(RuntimeError):
    """The load-generator process failed."""


class Bench:
    """Starts stacks and load-generator processes inside one work directory."""

    def __init__(self, workdir: Path, cpus: CpuPlan, *, stop_timeout: float = 30.0) -> None:
        self.workdir = workdir
        self.cpus = cpus
        self.stop_timeout = stop_timeout
        self._count = 0

    def _next(self, stem: str) -> Path:
        self._count += 1
        path = self.workdir / f"{self._count:03d}-{stem}"
        path.mkdir(parents=True)
        return path

    @contextlib.contextmanager
    def stack(
        self,
        impl: Impl,
        *,
        delay_ms: float = 0.0,
        workers: int | None = None,
        env: dict[str, str] | None = None,
        private_redis: bool = False,
        durable_redis: bool = False,
    ) -> Iterator[RunningStack]:
        """Start ``impl`` with a fresh log; stop everything afterwards.

        A broker is the one ``REDIS_URL`` names when it is set (used as it is, not
        flushed: its queue should be empty), else a fresh private server. Scenarios
        that kill or freeze the broker ask for ``private_redis`` whatever the
        environment says; ``durable_redis`` makes it keep its queue across a kill.
        """
        workdir = self._next(impl.id)
        stack_env = {"LOG_DELAY_MS": f"{delay_ms:g}", "LOG_FSYNC": "0"}
        if workers is not None and impl.workers_env:
            stack_env[impl.workers_env] = str(workers)
        stack_env.update(env or {})
        shared_url = os.environ.get("REDIS_URL") if not private_redis else None
        with contextlib.ExitStack() as resources:
            redis = None
            redis_url = shared_url or None
            if impl.needs_redis and not redis_url:
                redis = RedisServer(workdir, durable=durable_redis)
                redis.start()
                resources.callback(redis.stop)
                self._pin(redis.process.pid)
                redis_url = redis.url
            log_path = workdir / "log.txt"
            stack = Stack(
                impl,
                workdir,
                log_path=log_path,
                env=stack_env,
                redis_url=redis_url if impl.needs_redis else None,
                cpus=self.cpus.servers,
            )
            stack.start()
            resources.callback(stack.stop, self.stop_timeout)
            yield RunningStack(stack, redis)

    def _pin(self, pid: int) -> None:
        if self.cpus.servers is not None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, self.cpus.servers)

    def load(
        self, running: RunningStack, spec: LoadSpec, *, timeout: float, watch_cpu: bool = False
    ) -> LoadOutcome:
        """Run the load generator with ``spec`` against ``running``, sampling its memory.

        With ``watch_cpu``, every phase's result also says what each server
        process's CPU and the broker's Redis did over it (``server``).
        """
        if watch_cpu:
            spec = replace(
                spec,
                watch=running.named_pids(),
                redis_url=running.redis.url if running.redis is not None else None,
            )
        spec = replace(
            spec,
            host="127.0.0.1",
            port=running.stack.port,
            log_path=str(running.log_path),
            cpu=self.cpus.loadgen,
            server_pids=(running.stack[running.impl.web.name].pid,),
            web_processes=running.impl.web_processes,
        )
        with MemorySampler(running.pids) as memory:
            data = self.run_loadgen(spec, timeout=timeout)
        return LoadOutcome(
            data, round(memory.peak_rss_mb, 1), _round(memory.peak_pss_mb), memory.peak_threads
        )

    def run_loadgen(self, spec: LoadSpec, *, timeout: float) -> dict[str, Any]:
        """Run one load-generator process and return its parsed results."""
        errors = self.workdir / "loadgen.err"
        with errors.open("ab") as err:
            try:
                proc = subprocess.run(
                    [sys.executable, "-m", "bgref_compare.loadgen._loadgen"],
                    input=spec.to_json().encode(),
                    stdout=subprocess.PIPE,
                    stderr=err,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise LoadGenError(f"load generator still running after {timeout:.0f} s") from exc
        if proc.returncode != 0:
            tail = errors.read_text(errors="replace")[-3000:]
            raise LoadGenError(f"load generator exited with {proc.returncode}:\n{tail}")
        result: dict[str, Any] = json.loads(proc.stdout)
        return result


def new_run_id() -> str:
    """A short random id that prefixes every message of one run."""
    return "r" + secrets.token_hex(4)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)

"""The server's CPU and Redis's commands over one phase, read where the load is generated.

A throughput ratio is a median over paired slices, and the CPU split that
explains it came from one more slice of each path after them: a different
four seconds, on a shared machine whose cost per request moved by up to a
third from one slice to the next (the reference run of 2026-12-02: Taskiq's
split said 0.61 where its ratio said 0.49). Read at the edges of every phase
instead, by the load generator that starts and ends them, the split and the
ratio come from the same slices, and a stack that leaves its CPU idle (a web
waiting on its broker's round trip) shows as a CPU less than busy.

The kernel's accounting (user plus system time) of each named process, and
Redis's ``INFO commandstats``; a process that is gone by the end is left out.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import psutil

from bgref_compare.stack._rawredis import RedisReplyError, redis_call

__all__ = ["ServerUsage", "Usage", "parse_commandstats"]


@dataclass(frozen=True)
class Usage:
    """What the server used between two readings: CPU seconds by process name, Redis's calls."""

    # (name, processes of that name, CPU seconds), in the order the processes were named.
    cpu: tuple[tuple[str, int, float], ...]
    redis_calls: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """As plain data for a phase's result."""
        return {
            "cpu_s": [[name, count, round(seconds, 4)] for name, count, seconds in self.cpu],
            "redis_calls": self.redis_calls,
        }


class ServerUsage:
    """Reads the CPU of named server processes, and Redis's command counts, on demand."""

    def __init__(self, processes: tuple[tuple[str, int], ...], redis_url: str | None) -> None:
        self._names: list[tuple[str, psutil.Process]] = []
        for name, pid in processes:
            with contextlib.suppress(psutil.Error):
                self._names.append((name, psutil.Process(pid)))
        self._redis_url = redis_url

    def read(self) -> tuple[dict[int, float], dict[str, int]]:
        """Now: each process's CPU seconds by pid, and Redis's calls by command."""
        cpu: dict[int, float] = {}
        for _, proc in self._names:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                cpu[proc.pid] = float(times.user + times.system)
        return cpu, self._commandstats()

    def since(self, before: tuple[dict[int, float], dict[str, int]]) -> Usage:
        """What was used since ``before`` (a ``read()``), processes of one name summed."""
        cpu_before, calls_before = before
        cpu_now, calls_now = self.read()
        # A pool's children are summed: which child got the work is chance.
        totals: dict[str, tuple[int, float]] = {}
        for name, proc in self._names:
            start, end = cpu_before.get(proc.pid), cpu_now.get(proc.pid)
            if start is None or end is None:
                continue
            count, seconds = totals.get(name, (0, 0.0))
            totals[name] = (count + 1, seconds + end - start)
        calls = {
            name: count - calls_before.get(name, 0)
            for name, count in calls_now.items()
            if count > calls_before.get(name, 0) and name != "info"
        }
        return Usage(tuple((n, c, s) for n, (c, s) in totals.items()), calls)

    def _commandstats(self) -> dict[str, int]:
        if self._redis_url is None:
            return {}
        try:
            info = redis_call(self._redis_url, "INFO", "commandstats", timeout=2.0)
        except (OSError, RedisReplyError):
            return {}
        return parse_commandstats(info.decode() if isinstance(info, bytes) else str(info))


def parse_commandstats(text: str) -> dict[str, int]:
    """Calls by command from ``INFO commandstats`` (``cmdstat_lpush:calls=708,usec=...``)."""
    calls: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("cmdstat_") and "calls=" in line:
            name, _, fields = line.partition(":")
            count = fields.split(",", 1)[0].partition("=")[2]
            calls[name.removeprefix("cmdstat_")] = int(count)
    return calls

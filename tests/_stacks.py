"""Starting stacks for tests: one Redis database each, all stopped at teardown."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bgref_compare import Impl, Stack, redis_call

__all__ = ["STACKS", "RedisDatabases", "StackFactory"]

# Redis has 16 numbered databases by default.
_REDIS_DATABASES = 16
# The stacks a test uses, so that a failure report can show their output.
STACKS = pytest.StashKey[list[Stack]]()


class RedisDatabases:
    """Hands each new stack its own database of one Redis server.

    Stacks that shared a database would share a task queue: one stack's Celery
    worker would take, and write to its own log, another stack's work.
    """

    def __init__(self, url: str, *, owned: bool) -> None:
        self.url = url
        self.owned = owned
        self._next = 0

    def allocate(self) -> str:
        """The URL of the next database, emptied first when the server is the suite's own."""
        parts = urlsplit(self.url)
        base = int(parts.path.strip("/") or 0)
        number = (base + self._next) % _REDIS_DATABASES
        self._next += 1
        url = urlunsplit(parts._replace(path=f"/{number}"))
        if self.owned:
            # A reused database may still hold tasks that a killed worker left.
            reply = redis_call(url, "FLUSHDB")
            if reply != "OK":
                raise RuntimeError(f"could not empty redis database {number}: {reply!r}")
        return url


class StackFactory:
    """Starts stacks of one implementation; ``close()`` stops all of them."""

    def __init__(
        self,
        impl: Impl,
        tmp_path_factory: pytest.TempPathFactory,
        databases: RedisDatabases | None,
        item: pytest.Item | None = None,
    ) -> None:
        self.impl = impl
        self._tmp = tmp_path_factory
        self._databases = databases
        self._item = item
        self._stacks: list[Stack] = []

    def __call__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        redis_url: str | None = None,
        log_path: Path | None = None,
    ) -> Stack:
        """Start a stack with extra environment (``{"LOG_DELAY_MS": "500"}``) and wait for it.

        ``redis_url`` overrides the database handed out (a fault test's own
        server, say); ``log_path`` defaults to a fresh file in a temporary folder.
        """
        if redis_url is None and self._databases is not None:
            redis_url = self._databases.allocate()
        workdir = self._tmp.mktemp(f"{self.impl.id}-stack")
        # The implementation's test trace, where it records one: the suite's
        # measure of idleness (see _trace) and of when the work starts.
        trace = {self.impl.trace_env: str(workdir / "trace.txt")} if self.impl.trace_env else {}
        stack = Stack(
            self.impl,
            workdir,
            # No simulated delay unless asked for, whatever the caller's environment says.
            env={"LOG_DELAY_MS": "0", **trace, **(env or {})},
            redis_url=redis_url,
            log_path=log_path,
        )
        # Kept before it starts: close() must also stop a stack whose start failed
        # half-way (Stack.start() already stops it; stopping twice is harmless).
        self._stacks.append(stack)
        if self._item is not None:
            self._item.stash.setdefault(STACKS, []).append(stack)
        stack.start()
        return stack

    def close(self) -> None:
        """Kill every stack this factory started, the newest first.

        The test is done with them, so no grace period: a graceful stop here
        would check nothing (the tests of a graceful stop signal the process
        themselves and check what it did), and it costs seconds per stack (an
        idle Celery worker's warm shutdown waits out about 3 s of its own
        polling intervals). On the suite's own Redis, whatever a stack leaves
        in its database is emptied before the database is handed out again.
        """
        while self._stacks:
            self._stacks.pop().stop(timeout=0)

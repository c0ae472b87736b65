"""One child process in its own process group, with its output kept in a file."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["ManagedProcess"]

# Every process group started here, so that an interpreter exit (a failed
# fixture, Ctrl-C) still stops them: no orphaned servers.
_LIVE: set[ManagedProcess] = set()


class ManagedProcess:
    """A started command whose whole process group is stopped on ``stop()``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        output: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self.env = dict(env)
        self.output_path = output
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the command; its stdout and stderr are appended to the output file."""
        with self.output_path.open("ab") as out:
            # A new session makes the child the leader of its own process group,
            # so that stop() reaches its children too (prefork pools, workers).
            self._popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        """The process id of the command (also its process group id)."""
        if self._popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._popen.pid

    @property
    def running(self) -> bool:
        """Whether the command has not exited yet."""
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit status, or None while it runs."""
        return None if self._popen is None else self._popen.poll()

    def output(self) -> str:
        """Everything the process has printed so far."""
        try:
            return self.output_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def signal(self, signum: int, *, group: bool = False) -> None:
        """Send a signal to the process, or to its whole process group."""
        if not self.running:
            return
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(self.pid, signum)
            else:
                os.kill(self.pid, signum)

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds for the exit; return the status or None."""
        if self._popen is None:
            return None
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 30.0) -> None:
        """Stop gracefully with SIGTERM, then SIGKILL the whole group after ``timeout``."""
        if self._popen is None:
            return
        if self.running:
            self.signal(signal.SIGCONT, group=True)  # a paused process cannot exit
            self.signal(signal.SIGTERM)
            self.wait(timeout)
        # Children (a pool, a forked worker) may outlive their parent: the group goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.wait(5.0)
        _LIVE.discard(self)

    def kill(self) -> None:
        """SIGKILL the process alone, as a crash would (its children are left)."""
        self.signal(signal.SIGKILL)
        self.wait(10.0)


def _reap_all() -> None:
    for proc in list(_LIVE):
        proc.stop(timeout=5.0)


atexit.register(_reap_all)

"""Finding the process a fault strikes: a pool process mid-task, a server's listening addresses."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import psutil

from bgref_compare.stack._polling import wait_until
from bgref_compare.stack._process import ManagedProcess

__all__ = [
    "busy_pool_process",
    "listening_addresses",
    "pool_children",
    "threads_asleep",
    "threads_mid_task",
]

# pselect6's number, by machine: Python 3.10's time.sleep waits in pselect6.
_PSELECT6 = {"x86_64": "270", "aarch64": "72"}.get(platform.machine())


def pool_children(worker: ManagedProcess) -> list[int]:
    """The pids of the worker's pool processes (none if it runs no pool, or is gone)."""
    try:
        return [child.pid for child in psutil.Process(worker.pid).children()]
    except psutil.NoSuchProcess:
        return []


def _in_time_sleep(pid: int) -> bool:
    """Whether process ``pid`` is asleep in ``time.sleep``.

    Python 3.11 and later sleep in clock_nanosleep (a nanosleep in
    ``/proc/<pid>/wchan``). Python 3.10 sleeps in a pselect6 on no descriptors,
    whose wchan is the same as an idle pool process's poll, so its system call
    and first argument (0 descriptors) tell them apart.
    """
    try:
        if "nanosleep" in Path(f"/proc/{pid}/wchan").read_text():
            return True
        call = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return len(call) > 1 and call[0] == _PSELECT6 and call[1] == "0x0"


def threads_asleep(pid: int) -> set[int]:
    """The ids of the threads of process ``pid`` asleep in ``time.sleep`` now."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return set()
    # A thread's id names it under /proc too, wchan and syscall included.
    return {int(tid) for tid in threads if _in_time_sleep(int(tid))}


def threads_mid_task(pid: int) -> int:
    """How many threads of process ``pid`` are mid-task (asleep in the simulated work)."""
    return len(threads_asleep(pid))


def _waits_in(pid: int, wchan: str) -> bool:
    try:
        return wchan in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


def busy_pool_process(
    worker: ManagedProcess, timeout: float = 10.0, wchan: str | None = None
) -> int | None:
    """A pool process of ``worker`` that is mid-task, or None if none is seen within ``timeout``.

    Mid-task means asleep in the simulated work (``time.sleep``), or waiting in
    ``wchan`` (the registry's ``mid_task_wchan``) where the work is awaited.
    """
    children = pool_children(worker)
    busy: list[int] = []

    def sleeping() -> bool:
        for pid in children:
            if _in_time_sleep(pid) if wchan is None else _waits_in(pid, wchan):
                busy.append(pid)
                return True
        return False

    return busy[0] if children and wait_until(sleeping, timeout, interval=0.002) else None


def listening_addresses(pid: int) -> set[str]:
    """The IP addresses on which process ``pid`` accepts TCP connections."""
    return {
        conn.laddr.ip
        for conn in psutil.Process(pid).net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    }

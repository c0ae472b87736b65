"""Peak memory of a set of process trees, sampled in a background thread."""

# psutil ships no type information (types-psutil is not in the typecheck group).

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable

import psutil

__all__ = ["MemorySampler", "total_memory", "tree_memory", "tree_threads"]

_MB = 1024 * 1024


def total_memory() -> int:
    """The machine's physical memory in bytes."""
    return int(psutil.virtual_memory().total)


def tree_memory(pids: Iterable[int]) -> tuple[int, int | None]:
    """Summed RSS and PSS (None where the OS has no PSS) of the processes and their descendants.

    RSS counts pages shared between a prefork parent and its children once per
    process; PSS splits them, so it is the fairer sum for a process tree.
    """
    rss = 0
    pss: int | None = 0
    for proc in _tree(pids):
        with contextlib.suppress(psutil.Error):
            rss += proc.memory_info().rss
            if pss is not None:
                try:
                    pss += getattr(proc.memory_full_info(), "pss", 0)
                except (psutil.AccessDenied, AttributeError, NotImplementedError):
                    pss = None
    return rss, pss


def tree_threads(pids: Iterable[int]) -> int:
    """Threads of the processes and their descendants (a thread per request shows here)."""
    count = 0
    for proc in _tree(pids):
        with contextlib.suppress(psutil.Error):
            count += proc.num_threads()
    return count


def _tree(pids: Iterable[int]) -> list[psutil.Process]:
    procs: dict[int, psutil.Process] = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            procs[root.pid] = root
            for child in root.children(recursive=True):
                procs[child.pid] = child
    return list(procs.values())


class MemorySampler:
    """Sample ``tree_memory(pids())`` every ``interval`` seconds and keep the peaks (in MB)."""

    def __init__(self, pids: Callable[[], Iterable[int]], interval: float = 0.1) -> None:
        self._pids = pids
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.peak_rss_mb = 0.0
        self.peak_pss_mb: float | None = 0.0
        self.peak_threads = 0
        self.samples = 0

    def sample(self) -> None:
        """Take one sample now."""
        pids = list(self._pids())
        rss, pss = tree_memory(pids)
        self.peak_threads = max(self.peak_threads, tree_threads(pids))
        self.samples += 1
        self.peak_rss_mb = max(self.peak_rss_mb, rss / _MB)
        if pss is None:
            self.peak_pss_mb = None
        elif self.peak_pss_mb is not None:
            self.peak_pss_mb = max(self.peak_pss_mb, pss / _MB)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

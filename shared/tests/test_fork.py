"""Forked children (Celery prefork, gunicorn workers) keep writing safely."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

import bgref_linelog._writer
from bgref_linelog import LogWriter, read_messages

# Runs in a fresh interpreter: forking the test process, which has threads of
# its own, would be unsafe (and warned about from Python 3.12 on).
_PARENT = textwrap.dedent(
    """
    import os, sys, threading, time
    from bgref_linelog import LogWriter

    path, fsync = sys.argv[1], sys.argv[2] == "1"
    writer = LogWriter(path, fsync=fsync, reopen_check=0)
    writer.write("parent before fork")
    # As if another thread held the writer's locks at the moment of the fork.
    writer._open_lock.acquire()
    writer._group._lock.acquire()
    children = []
    for child in range(4):
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                threads = [
                    threading.Thread(
                        target=lambda t=t: [writer.write(f"c{child} t{t} {i}") for i in range(50)]
                    )
                    for t in range(3)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                status = 0
            finally:
                os._exit(status)
        children.append(pid)
    writer._open_lock.release()
    writer._group._lock.release()
    deadline = time.monotonic() + 60
    statuses = {}
    while len(statuses) < len(children) and time.monotonic() < deadline:
        for pid in children:
            if pid not in statuses:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    statuses[pid] = status
        time.sleep(0.01)
    for pid in set(children) - set(statuses):
        os.kill(pid, 9)
    writer.write("parent after fork")
    sys.exit(0 if list(statuses.values()) == [0] * len(children) else 3)
    """
)


@pytest.mark.parametrize("fsync", [False, True], ids=["default", "fsync"])
def test_children_share_the_writer(log_path: Path, fsync: bool) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PARENT, str(log_path), "1" if fsync else "0"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    expected = Counter(f"c{c} t{t} {i}" for c in range(4) for t in range(3) for i in range(50))
    expected.update(["parent before fork", "parent after fork"])
    assert Counter(read_messages(log_path)) == expected


def test_after_fork_hook_resets_the_locks(log_path: Path) -> None:
    # The hook runs in children, out of coverage's sight: run it here as well.
    writer = LogWriter(log_path)
    writer.write("before")
    writer._open_lock.acquire()
    bgref_linelog._writer._after_fork_in_child()
    writer.write("after")
    writer.close()
    assert read_messages(log_path) == ["before", "after"]

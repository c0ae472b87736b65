"""Many processes and threads appending to one file never tear or interleave lines."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path

import pytest
from _corpus import messages

from bgref_linelog import LogWriter, read_messages

PROCESSES, THREADS, PER_THREAD = 8, 4, 1_000

_CHILD = textwrap.dedent(
    """
    import sys, threading
    from _corpus import messages
    from bgref_linelog import LogWriter

    process, threads, per_thread = map(int, sys.argv[1:4])
    writer = LogWriter()
    ready = threading.Barrier(threads)

    def work(thread):
        batch = messages(process, thread, per_thread)
        ready.wait()
        for message in batch:
            writer.write(message)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    """
)


# The fsync mode takes another path: the group commit writes batches of lines.
modes = pytest.mark.parametrize("fsync", [False, True], ids=["default", "fsync"])


@pytest.mark.slow
@modes
def test_processes_and_threads(log_path: Path, fsync: bool) -> None:
    environment = {
        **os.environ,
        "LOG_PATH": str(log_path),
        "LOG_FSYNC": str(fsync),
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path]),
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(process), str(THREADS), str(PER_THREAD)],
            env=environment,
        )
        for process in range(PROCESSES)
    ]
    assert [child.wait(timeout=120) for child in children] == [0] * PROCESSES

    expected = Counter(
        message
        for process in range(PROCESSES)
        for thread in range(THREADS)
        for message in messages(process, thread, PER_THREAD)
    )
    data = log_path.read_bytes()
    assert data.count(b"\n") == PROCESSES * THREADS * PER_THREAD
    assert Counter(read_messages(log_path)) == expected
    assert max(len(line) for line in data.split(b"\n")) > 60_000


@modes
def test_threads_in_one_process(log_path: Path, fsync: bool) -> None:
    writer = LogWriter(log_path, fsync=fsync)
    batches = [messages(99, thread, 200) for thread in range(8)]

    def work(batch: list[str]) -> None:
        for message in batch:
            writer.write(message)

    workers = [threading.Thread(target=work, args=(batch,)) for batch in batches]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    writer.close()
    assert Counter(read_messages(log_path)) == Counter(m for batch in batches for m in batch)

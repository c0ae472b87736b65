"""The log follower that stamps completion times."""

from __future__ import annotations

from pathlib import Path

from bgref_compare.loadgen._tail import LogTail


def test_lines_are_stamped_once_when_complete(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    tail = LogTail(str(log), "run-")
    assert tail.poll(now=1.0) == 0  # no file yet
    log.write_bytes(b"run-0\nrun-1\nforeign\nrun-2")  # the last line is still partial
    assert tail.poll(now=2.0) == 3
    assert tail.seen == {0: 2.0, 1: 2.0}
    assert tail.foreign == 1
    with log.open("ab") as out:
        out.write(b"\nrun-1\nrun-3\n")  # completes run-2; run-1 again keeps its first stamp
    assert tail.poll(now=3.0) == 3
    assert tail.seen == {0: 2.0, 1: 2.0, 2: 3.0, 3: 3.0}
    assert tail.lines == 6
    assert tail.gaps == [1.0, 1.0]
    tail.close()
    tail.close()

"""The writer's settings as every implementation reads them: LOG_PATH's default, LOG_FSYNC."""

from __future__ import annotations

import os
from collections import Counter
from functools import partial
from pathlib import Path

import pytest

from bgref_compare import StackError, wait_until

from ._helpers import IDLE_DEADLINE, SETTLE_DEADLINE, http_client, send, token, wait_for_messages
from ._stacks import StackFactory

MESSAGES = 20
# tests/fsync_probe/sitecustomize.py: first on PYTHONPATH, it records the
# server's fsyncs without a change to the server (see its docstring).
PROBE = Path(__file__).parent / "fsync_probe"


def _probe_env(record: Path) -> dict[str, str]:
    path = [str(PROBE), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(path), "BGREF_TEST_FSYNC_LOG": str(record)}


def _synced(record: Path, log: Path) -> int:
    """How many bytes of ``log`` the recorded fsyncs have put on disk (0 if none)."""
    try:
        lines = record.read_text().splitlines()
    except FileNotFoundError:
        return 0
    target = str(log.resolve())
    return max(
        (int(size) for size, _, path in (line.partition(" ") for line in lines) if path == target),
        default=0,
    )


def _covers(record: Path, log: Path, size: int) -> bool:
    """Whether a recorded fsync of ``log`` covers its first ``size`` bytes."""
    return _synced(record, log) >= size


def test_log_path_default_and_log_fsync_on(stack_factory: StackFactory, tmp_path: Path) -> None:
    """No LOG_PATH: ``log.txt`` in the working directory; LOG_FSYNC=1: each line synced."""
    # An empty LOG_PATH counts as unset; the stack's processes run in its folder,
    # where its log_path is log.txt too. One stack for both: each start costs seconds.
    record = tmp_path / "fsyncs.txt"
    stack = stack_factory({"LOG_PATH": "", "LOG_FSYNC": "1", **_probe_env(record)})
    messages = [f"settings {token()} {n}" for n in range(MESSAGES)]
    with http_client(stack.base_url) as client:
        for message in messages:
            assert send(client, message).status_code == 200
            # Each line is on disk soon after it is written, by an fsync of the
            # log that started once the line was in it.
            wait_for_messages(stack, [message], SETTLE_DEADLINE)
            size = stack.log_path.stat().st_size
            assert wait_until(partial(_covers, record, stack.log_path, size), IDLE_DEADLINE), (
                f"{message!r} written but not synced within {IDLE_DEADLINE} s "
                f"({_synced(record, stack.log_path)} of {size} bytes synced)"
            )
    log = wait_for_messages(stack, messages, SETTLE_DEADLINE)
    # Once each; in any order (a pool or two workers may reorder them).
    assert Counter(m for m in log if m in set(messages)) == Counter(messages)


def test_a_log_fsync_value_that_means_nothing_stops_the_start(
    stack_factory: StackFactory,
) -> None:
    """LOG_FSYNC=maybe: the implementation refuses to start and says why."""
    with pytest.raises(StackError, match="LOG_FSYNC must be one of"):
        stack_factory({"LOG_FSYNC": "maybe"})

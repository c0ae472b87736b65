"""The writer's settings as every implementation reads them: LOG_PATH's default, LOG_FSYNC."""

from __future__ import annotations

from collections import Counter

import pytest

from bgref_compare import StackError

from ._helpers import SETTLE_DEADLINE, http_client, send, token, wait_for_messages
from ._stacks import StackFactory

MESSAGES = 20


def _all_written_once(stack_factory: StackFactory, env: dict[str, str]) -> None:
    stack = stack_factory(env)
    messages = [f"settings {token()} {n}" for n in range(MESSAGES)]
    with http_client(stack.base_url) as client:
        for message in messages:
            assert send(client, message).status_code == 200
    log = wait_for_messages(stack, messages, SETTLE_DEADLINE)
    # Once each; in any order (a pool or two workers may reorder them).
    assert Counter(m for m in log if m in set(messages)) == Counter(messages)


def test_log_path_defaults_to_log_txt_in_the_working_directory(
    stack_factory: StackFactory,
) -> None:
    """Without LOG_PATH, the log is ``log.txt`` in the working directory (the stack's folder)."""
    # An empty LOG_PATH counts as unset; the stack's processes run in its
    # folder, where its log_path is log.txt too.
    _all_written_once(stack_factory, {"LOG_PATH": ""})


def test_log_fsync_on_writes_every_message_once(stack_factory: StackFactory) -> None:
    """LOG_FSYNC=1: every acknowledged message is written, once."""
    _all_written_once(stack_factory, {"LOG_FSYNC": "1"})


def test_a_log_fsync_value_that_means_nothing_stops_the_start(
    stack_factory: StackFactory,
) -> None:
    """LOG_FSYNC=maybe: the implementation refuses to start and says why."""
    with pytest.raises(StackError, match="LOG_FSYNC must be one of"):
        stack_factory({"LOG_FSYNC": "maybe"})

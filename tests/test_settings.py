"""The writer's settings as every implementation reads them: LOG_PATH's default, LOG_FSYNC."""

from __future__ import annotations

from collections import Counter

import pytest

from bgref_compare import StackError

from ._helpers import SETTLE_DEADLINE, http_client, send, token, wait_for_messages
from ._stacks import StackFactory

MESSAGES = 20


def test_log_path_default_and_log_fsync_on(stack_factory: StackFactory) -> None:
    """No LOG_PATH: ``log.txt`` in the working directory; LOG_FSYNC=1: every message once."""
    # An empty LOG_PATH counts as unset; the stack's processes run in its folder,
    # where its log_path is log.txt too. One stack for both: each start costs seconds.
    stack = stack_factory({"LOG_PATH": "", "LOG_FSYNC": "1"})
    messages = [f"settings {token()} {n}" for n in range(MESSAGES)]
    with http_client(stack.base_url) as client:
        for message in messages:
            assert send(client, message).status_code == 200
    log = wait_for_messages(stack, messages, SETTLE_DEADLINE)
    # Once each; in any order (a pool or two workers may reorder them).
    assert Counter(m for m in log if m in set(messages)) == Counter(messages)


def test_a_log_fsync_value_that_means_nothing_stops_the_start(
    stack_factory: StackFactory,
) -> None:
    """LOG_FSYNC=maybe: the implementation refuses to start and says why."""
    with pytest.raises(StackError, match="LOG_FSYNC must be one of"):
        stack_factory({"LOG_FSYNC": "maybe"})

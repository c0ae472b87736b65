"""Accounting of requests against the log: lost, duplicated, unexpected."""

from __future__ import annotations

from collections import Counter

import pytest

from bgref_compare.loadgen._accounting import FAILED, account, classify, count_messages


def test_classify() -> None:
    assert classify(200) == "ok"
    assert classify(503) == "rejected"
    assert classify(422) == "rejected"
    assert classify(FAILED) == "failed"


def test_count_messages_keeps_foreign_lines_apart() -> None:
    counts, foreign = count_messages(["r1-0", "r1-1", "r1-1", "r2-3", "r1-", "r1-x", "hi"], "r1-")
    assert counts == Counter({0: 1, 1: 2})
    assert foreign == 4


def test_every_request_is_accounted_for() -> None:
    # seq: 0 ok+written, 1 ok+lost, 2 ok+twice, 3 rejected (not written),
    # 4 rejected but written, 5 failed (not written), 6 failed but written.
    statuses = [200, 200, 200, 503, 422, FAILED, FAILED]
    counts = Counter({0: 1, 2: 2, 4: 1, 6: 1})
    acc = account(list(range(7)), statuses, writes=True, counts=counts)
    assert (acc.requests, acc.ok, acc.rejected, acc.failed) == (7, 3, 2, 2)
    assert acc.errors == 4
    assert (acc.lost, acc.duplicated, acc.unexpected, acc.failed_written) == (1, 1, 1, 1)


def test_a_path_that_writes_nothing() -> None:
    acc = account([0, 1, 2], [200, 200, 200], writes=False, counts=Counter({1: 1}))
    assert (acc.ok, acc.lost, acc.unexpected) == (3, 0, 1)


def test_statuses_must_match_requests() -> None:
    with pytest.raises(ValueError, match="one status"):
        account([0, 1], [200], writes=True, counts=Counter())

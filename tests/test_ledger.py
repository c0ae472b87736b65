"""The fault ledger's own checks: each one fails on a doctored run (no server needed)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bgref_compare.faults import NO_ANSWER, Answer, Ledger, burst_messages

MESSAGES = burst_messages("ledger", 6)
# Acknowledged, acknowledged, acknowledged, refused, no answer, acknowledged.
STATUSES = (200, 200, 200, 503, NO_ANSWER, 200)
WRITTEN = [MESSAGES[0], MESSAGES[1], MESSAGES[2], MESSAGES[5]]
FAULT_AT = 10.0


def _answers(statuses: Sequence[int], at: Sequence[float] = (FAULT_AT + 1,) * 6) -> list[Answer]:
    return [Answer(m, s, t, 0.01) for m, s, t in zip(MESSAGES, statuses, at, strict=True)]


def test_a_sound_run_passes_every_check() -> None:
    ledger = Ledger.of(_answers(STATUSES), WRITTEN)
    ledger.check_consistent()
    ledger.check_nothing_lost()
    ledger.check_answered(at_least=4, before=FAULT_AT)


@pytest.mark.parametrize(
    ("log", "max_duplicated", "complaint"),
    [
        ([*WRITTEN, MESSAGES[0][:-1] + "X"], 0, "never sent"),
        ([*WRITTEN, MESSAGES[3]], 0, "written although refused"),
        ([*WRITTEN, MESSAGES[1]], 0, "1 second copies"),
        ([*WRITTEN, *[MESSAGES[1]] * 3], 2, "3 second copies"),
    ],
    ids=["mangled line", "refused written", "second copy", "too many copies"],
)
def test_check_consistent_fails_on(log: list[str], max_duplicated: int, complaint: str) -> None:
    ledger = Ledger.of(_answers(STATUSES), log)
    with pytest.raises(AssertionError, match=complaint):
        ledger.check_consistent(max_duplicated=max_duplicated)


def test_check_nothing_lost_fails_on_a_lost_message() -> None:
    with pytest.raises(AssertionError, match="never written"):
        Ledger.of(_answers(STATUSES), WRITTEN[:-1]).check_nothing_lost()


def test_check_answered_fails_on_too_few_or_early_failures() -> None:
    with pytest.raises(AssertionError, match="expected 5"):
        Ledger.of(_answers(STATUSES), WRITTEN).check_answered(at_least=5)
    with pytest.raises(AssertionError, match="expected 6"):
        Ledger.of(_answers(STATUSES), WRITTEN).check_all_answered()
    at = (1.0, 2.0, 3.0, 20.0, 21.0, 22.0)
    unanswered = Ledger.of(_answers((200, NO_ANSWER, 200, 200, 200, 200), at), [])
    refused = Ledger.of(_answers((200, 503, 200, 200, 200, 200), at), [])
    with pytest.raises(AssertionError, match="before the fault"):
        unanswered.check_answered(at_least=1, before=FAULT_AT)
    with pytest.raises(AssertionError, match="before the fault"):
        unanswered.check_answered(at_least=1, before=FAULT_AT, refusals=True)
    with pytest.raises(AssertionError, match="before the fault"):
        refused.check_answered(at_least=1, before=FAULT_AT)
    refused.check_answered(at_least=1, before=FAULT_AT, refusals=True)

"""write_group: a group in order, the rest handed on when slow, what is left after a failure."""

from __future__ import annotations

import errno
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgref_message.queue import SLICE, GroupWriteFailed, split, write_group

MESSAGES = [f"message {n}" for n in range(6)]


class _Log:
    """A write callback that keeps what it was given, on a clock it moves itself.

    Each write takes ``seconds`` of the clock; a write whose position (from 0,
    over every call) is in ``failing`` raises ENOSPC, as a full disk would.
    """

    def __init__(self, seconds: float = 0.0, failing: frozenset[int] = frozenset()) -> None:
        self.seconds = seconds
        self.failing = failing
        self.now = 0.0
        self.calls = 0
        self.lines: list[str] = []

    def write(self, message: str) -> None:
        call, self.calls = self.calls, self.calls + 1
        self.now += self.seconds
        if call in self.failing:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.lines.append(message)

    def clock(self) -> float:
        return self.now


class _HandOff:
    """A hand-off callback that keeps every ``rest`` offered and answers ``taken``."""

    def __init__(self, *, taken: bool) -> None:
        self.taken = taken
        self.offered: list[list[str]] = []

    def __call__(self, rest: list[str]) -> bool:
        self.offered.append(rest)
        return self.taken


def test_fast_writes_write_the_whole_group_in_order_and_never_hand_off() -> None:
    log, hand_off = _Log(seconds=0.0), _HandOff(taken=True)
    write_group(MESSAGES, log.write, hand_off, clock=log.clock)
    assert log.lines == MESSAGES
    assert hand_off.offered == []


def test_the_defaults_write_with_the_monotonic_clock() -> None:
    # Two messages: a hand-off needs two left after one written, so however
    # slow this machine, none is tried.
    log, hand_off = _Log(), _HandOff(taken=True)
    write_group(MESSAGES[:2], log.write, hand_off)
    assert log.lines == MESSAGES[:2]
    assert hand_off.offered == []
    assert SLICE == 0.2


def test_once_the_slice_is_spent_the_rest_is_handed_off_and_nothing_else_written() -> None:
    # One second a write, a slice of two: after the third write, 3 s > 2 s.
    log, hand_off = _Log(seconds=1.0), _HandOff(taken=True)
    write_group(MESSAGES, log.write, hand_off, slice_seconds=2.0, clock=log.clock)
    assert log.lines == MESSAGES[:3]
    assert hand_off.offered == [MESSAGES[3:]]


def test_the_slice_is_measured_from_the_start_and_must_be_exceeded() -> None:
    # After two writes, exactly 2 s: not yet more than the slice.
    log, hand_off = _Log(seconds=1.0), _HandOff(taken=True)
    write_group(MESSAGES[:3], log.write, hand_off, slice_seconds=2.0, clock=log.clock)
    assert log.lines == MESSAGES[:3]
    assert hand_off.offered == []


def test_a_refused_hand_off_writes_on_and_is_tried_again_while_two_are_left() -> None:
    log, hand_off = _Log(seconds=1.0), _HandOff(taken=False)
    write_group(MESSAGES, log.write, hand_off, slice_seconds=2.0, clock=log.clock)
    assert log.lines == MESSAGES
    # Never the last message alone: handing one on costs more than writing it.
    assert hand_off.offered == [MESSAGES[3:], MESSAGES[4:]]


def test_a_hand_off_is_never_tried_before_the_first_write() -> None:
    log, hand_off = _Log(seconds=1.0), _HandOff(taken=True)
    log.now = 100.0  # the clock is read once, before anything is written
    write_group(MESSAGES, log.write, hand_off, slice_seconds=0.5, clock=log.clock)
    assert log.lines == MESSAGES[:1]
    assert hand_off.offered == [MESSAGES[1:]]


def test_a_failed_first_write_leaves_the_whole_group_to_retry() -> None:
    log, hand_off = _Log(failing=frozenset({0})), _HandOff(taken=True)
    with pytest.raises(GroupWriteFailed) as raised:
        write_group(MESSAGES, log.write, hand_off, clock=log.clock)
    failed = raised.value
    assert (failed.written, failed.rest) == (0, MESSAGES)
    assert isinstance(failed.error, OSError)
    assert failed.error.errno == errno.ENOSPC
    assert failed.__cause__ is failed.error
    assert log.lines == []


def test_a_failed_write_mid_group_leaves_only_the_messages_not_written() -> None:
    log, hand_off = _Log(failing=frozenset({2})), _HandOff(taken=True)
    with pytest.raises(GroupWriteFailed) as raised:
        write_group(MESSAGES, log.write, hand_off, clock=log.clock)
    failed = raised.value
    assert (failed.written, failed.rest) == (2, MESSAGES[2:])
    assert log.lines == MESSAGES[:2]
    # Retried with the rest, the group is written once in all, in order.
    write_group(failed.rest, log.write, hand_off, clock=log.clock)
    assert log.lines == MESSAGES


def test_an_error_that_is_not_a_write_failure_is_not_wrapped() -> None:
    def broken(message: str) -> None:
        raise RuntimeError(message)

    with pytest.raises(RuntimeError, match="message 0"):
        write_group(MESSAGES, broken, _HandOff(taken=True))


def test_the_failure_says_how_many_in_counts_only_and_pickles() -> None:
    error = OSError(errno.EACCES, "Permission denied", "/var/log/app.log")
    failed = GroupWriteFailed(1, ["secret two", "secret three"], error)
    assert str(failed) == "1 of 3 messages written, 2 left"
    copy = pickle.loads(pickle.dumps(failed))
    assert (copy.written, copy.rest, str(copy)) == (1, ["secret two", "secret three"], str(failed))
    assert (copy.error.errno, copy.error.filename) == (errno.EACCES, "/var/log/app.log")


@pytest.mark.parametrize(
    ("count", "pieces", "sizes"),
    [
        (6, 2, [3, 3]),
        (5, 2, [3, 2]),
        # Equal runs first: five over four workers is three pieces, not four.
        (5, 4, [2, 2, 1]),
        (3, 10, [1, 1, 1]),
        (4, 1, [4]),
        (4, 0, [4]),
        (0, 3, []),
    ],
)
def test_split_cuts_the_rest_into_equal_runs_in_order(
    count: int, pieces: int, sizes: list[int]
) -> None:
    rest = MESSAGES[:count]
    cut = split(rest, pieces)
    assert [len(piece) for piece in cut] == sizes
    assert [message for piece in cut for message in piece] == rest


@given(st.lists(st.text(), max_size=40), st.integers(min_value=-1, max_value=50))
def test_split_keeps_every_message_once_in_order_in_at_most_the_pieces_asked(
    rest: list[str], pieces: int
) -> None:
    cut = split(rest, pieces)
    assert [message for piece in cut for message in piece] == rest
    assert len(cut) <= max(1, pieces)
    assert all(cut), "an empty piece"
    assert len({len(piece) for piece in cut[:-1]}) <= 1
    assert all(len(cut[-1]) <= len(piece) for piece in cut)

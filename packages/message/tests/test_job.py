"""A job's arguments are checked with the web's rules; the refusal says why, never the messages."""

from __future__ import annotations

import pytest

from bgref_message import MAX_LENGTH
from bgref_message.queue import InvalidJob, check_group, check_one, job_argument

SECRET = "a user's words"

# A message the web refuses, and the error type its refusal names.
BAD_MESSAGES = [
    (SECRET + "x" * MAX_LENGTH, "string_too_long"),
    (f"{SECRET}\x00", "string_contains_nul"),
    ("", "string_too_short"),
    (42, "string_type"),
    ({"message": SECRET}, "string_type"),
    ([SECRET], "string_type"),
    (None, "string_type"),
]


@pytest.mark.parametrize("args", [("one",), ["one"]])
def test_job_argument_is_the_one_positional_argument(args: object) -> None:
    assert job_argument(args, {}) == "one"


@pytest.mark.parametrize(
    ("args", "kwargs", "why"),
    [
        ((), {}, "got 0 and keywords []"),
        (("one", "two"), {}, "got 2 and keywords []"),
        (("one",), {"message": "one"}, "got 1 and keywords ['message']"),
        # A string where the list belongs: spread, "x" would be a valid message.
        ("x", {}, "should be a list and keywords a mapping, got str and dict"),
        (("one",), ["one"], "should be a list and keywords a mapping, got tuple and list"),
        (None, None, "got NoneType and NoneType"),
    ],
)
def test_job_argument_refuses_any_other_shape(args: object, kwargs: object, why: str) -> None:
    with pytest.raises(InvalidJob, match=why.replace("[", r"\[").replace("]", r"\]")):
        job_argument(args, kwargs)


def test_check_one_returns_a_valid_message() -> None:
    assert check_one("hello") == "hello"
    assert check_one("x" * MAX_LENGTH) == "x" * MAX_LENGTH


@pytest.mark.parametrize(("value", "kind"), BAD_MESSAGES)
def test_check_one_refuses_what_the_web_refuses(value: object, kind: str) -> None:
    with pytest.raises(InvalidJob) as raised:
        check_one(value)
    assert str(raised.value).startswith(f"{kind}: ")
    assert SECRET not in str(raised.value)
    # Nothing chained: the refusal is the whole story, logged once.
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_check_group_returns_the_messages_in_order() -> None:
    group = [f"message {n}" for n in range(40)]
    assert check_group(group) == group
    assert check_group(group, most=40) == group


@pytest.mark.parametrize(("value", "kind"), BAD_MESSAGES)
def test_one_bad_message_refuses_the_whole_group_and_says_which(value: object, kind: str) -> None:
    with pytest.raises(InvalidJob) as raised:
        check_group(["good", value, "good"], most=32)
    assert str(raised.value).startswith(f"message 2 of 3: {kind}: ")
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ([], "expected a non-empty list of messages, got list"),
        ("good", "expected a non-empty list of messages, got str"),
        (("good",), "expected a non-empty list of messages, got tuple"),
        ({"message": "good"}, "expected a non-empty list of messages, got dict"),
        (None, "expected a non-empty list of messages, got NoneType"),
        (["good"] * 33, "expected at most 32 messages, got 33"),
    ],
)
def test_check_group_refuses_what_is_not_a_group_the_web_sends(value: object, why: str) -> None:
    with pytest.raises(InvalidJob, match=why):
        check_group(value, most=32)

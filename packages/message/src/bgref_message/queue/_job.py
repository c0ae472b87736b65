"""What a worker accepts as a job's arguments: exactly what the web queues, nothing else.

Anyone who can write to a broker's Redis can queue a job past the web, so a
worker applies the web's rules again before it writes: one positional argument,
a message (``check_message``) or a group of them. One bad message refuses the
whole group, since the web never sends one. Each queue turns ``InvalidJob``
into its own refusal (a rejected task, a dead letter, a dropped job), logged
once with the job's id and never retried: it would fail the same way.
"""

from __future__ import annotations

from bgref_message import InvalidMessage, check_message

__all__ = ["InvalidJob", "check_group", "check_one", "job_argument"]


class InvalidJob(ValueError):
    """A job's arguments that the web never queues; the text says why, without the messages."""


def job_argument(args: object, kwargs: object) -> object:
    """The one positional argument of a job (``args``, ``kwargs`` as decoded); else ``InvalidJob``.

    The types are checked as well: a decoder hands over whatever the wire held.
    """
    if not isinstance(args, (list, tuple)) or not isinstance(kwargs, dict):
        raise InvalidJob(
            "arguments should be a list and keywords a mapping, got"
            f" {type(args).__name__} and {type(kwargs).__name__}"
        )
    if kwargs or len(args) != 1:
        names = sorted(str(name)[:40] for name in kwargs)
        raise InvalidJob(f"expected one positional argument, got {len(args)} and keywords {names}")
    return args[0]


def check_one(value: object) -> str:
    """``value`` if it is a message the web accepts; else ``InvalidJob`` saying why."""
    try:
        return check_message(value)
    except InvalidMessage as invalid:
        raise InvalidJob(_why(invalid)) from None


def check_group(value: object, *, most: int | None = None) -> list[str]:
    """``value`` if it is a group the web sends; else ``InvalidJob`` saying why.

    A group is a non-empty list of valid messages, and with ``most`` at most that
    many: a queue whose web never sends more can refuse more, which bounds what
    one job run twice can duplicate.
    """
    if not isinstance(value, list) or not value:
        raise InvalidJob(f"expected a non-empty list of messages, got {type(value).__name__}")
    if most is not None and len(value) > most:
        raise InvalidJob(f"expected at most {most} messages, got {len(value)}")
    messages: list[str] = []
    for position, item in enumerate(value, 1):
        try:
            messages.append(check_message(item))
        except InvalidMessage as invalid:
            raise InvalidJob(f"message {position} of {len(value)}: {_why(invalid)}") from None
    return messages


def _why(invalid: InvalidMessage) -> str:
    # The error's type and text, never its input: that is a user's message.
    return f"{invalid.error['type']}: {invalid}"

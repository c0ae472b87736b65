"""The same rules for a message that arrives already decoded: a queued job's argument."""

from __future__ import annotations

from ._query import MAX_LENGTH, InvalidMessage

__all__ = ["check_message"]


def check_message(value: object) -> str:
    """Return ``value`` if it is a valid message (a string, 1 to 1,000 characters, no NUL).

    For workers: what they take from a broker has not been through the web's
    validation (anyone who can write to the broker can queue anything), so they
    apply the web's rules again. Raise ``InvalidMessage`` otherwise.
    """
    if not isinstance(value, str):
        raise InvalidMessage("string_type", "Input should be a valid string", repr(value)[:80])
    if not value:
        raise InvalidMessage("string_too_short", "String should have at least 1 character", value)
    if len(value) > MAX_LENGTH:
        raise InvalidMessage(
            "string_too_long",
            f"String should have at most {MAX_LENGTH} characters",
            f"{value[:40]}... ({len(value)} characters)",
        )
    if "\x00" in value:
        raise InvalidMessage(
            "string_contains_nul", "String should not contain NUL (U+0000)", value[:80]
        )
    return value

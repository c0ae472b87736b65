"""Deterministic messages of mixed sizes and content for the concurrency tests."""

from __future__ import annotations

import random

# Sizes in UTF-8 bytes: mostly short, some long, a few up to 64 KiB; and how often.
_SIZES = ((1, 120), (120, 4_000), (4_000, 20_000), (60_000, 65_000))
_WEIGHTS = (70, 20, 9, 1)
_ALPHABET = "abcdefghij KLMNOPQRST 0123456789 é中😀"
_TRICKY = ["\n", "\r\n", "\\", "\x00", "\x85", "\u2028", "\t", "\ud800"]


def messages(process: int, thread: int, count: int) -> list[str]:
    """Return the messages that one thread of one process writes."""
    rng = random.Random(process * 1_000 + thread)
    result = []
    for index in range(count):
        low, high = rng.choices(_SIZES, _WEIGHTS)[0]
        prefix = f"p{process} t{thread} #{index} "
        char = rng.choice(_ALPHABET)
        body = char * (rng.randint(low, high) // len(char.encode()))
        if rng.random() < 0.2:
            spot = rng.randint(0, len(body))
            body = body[:spot] + rng.choice(_TRICKY) + body[spot:]
        result.append(prefix + body)
    return result

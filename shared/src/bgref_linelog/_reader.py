"""Reading a log file back into the messages that were written."""

from __future__ import annotations

import os

from ._escape import unescape

__all__ = ["read_messages"]


def read_messages(path: str | os.PathLike[str]) -> list[str]:
    """Return the messages in the log file at ``path``, oldest first ([] if it is missing)."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return []
    # Split on "\n" only: the writer escapes every other line break, so this
    # is exactly one message per line.
    lines = data.decode("utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    return [unescape(line) for line in lines]

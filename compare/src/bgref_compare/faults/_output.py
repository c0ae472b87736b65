"""What a stack's output says about the writes it could not make."""

from __future__ import annotations

import re
from pathlib import Path

from bgref_compare.stack._stack import Stack

__all__ = ["failures_naming"]

# linelog's report of a failed batch: "<n> queued lines were not written".
_BATCH_FAILURE = re.compile(r"(\d+) queued lines were not written")


def failures_naming(stack: Stack, path: Path) -> int:
    """How many messages the stack's output reports as not written to ``path``."""
    output = stack.output()
    # Each report ends in a traceback whose LogWriteError reads "cannot write
    # log file '<path>': <reason>". A report about a batch of lines written in
    # one system call (linelog's awrite_soon) starts with how many it held.
    reports = output.count(f"cannot write log file {str(path)!r}")
    batched = sum(int(n) - 1 for n in _BATCH_FAILURE.findall(output))
    return reports + batched

"""The writer's settings, from arguments or the environment."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import TypeVar

__all__ = [
    "resolve_delay",
    "resolve_fsync",
    "resolve_path",
    "resolve_retry_lines",
    "resolve_retry_seconds",
]

# Long enough to ride out a remount, a log folder being recreated or a disk being
# cleaned; short enough that a server does not hold messages for minutes unseen.
DEFAULT_RETRY_SECONDS = 10.0
DEFAULT_RETRY_LINES = 10_000

_T = TypeVar("_T", int, float)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def resolve_path(path: str | os.PathLike[str] | None) -> str:
    """Return the absolute log path: the argument, else ``LOG_PATH``, else ``log.txt``."""
    if path is None:
        path = os.environ.get("LOG_PATH") or "log.txt"
    # Absolute once, so that a reopen after rotation finds the same file even if
    # the working directory changed in between.
    return os.path.abspath(os.fspath(path))


def resolve_fsync(fsync: bool | None) -> bool:
    """Return the fsync mode: the argument, else ``LOG_FSYNC``, else off."""
    if fsync is not None:
        return fsync
    value = os.environ.get("LOG_FSYNC", "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"LOG_FSYNC must be one of 1/true/yes/on or 0/false/no/off, not {value!r}")


def resolve_delay(delay_ms: float | None) -> float:
    """Return the simulated delay in seconds: the argument, else ``LOG_DELAY_MS``, else 0."""
    if delay_ms is None:
        delay_ms = _from_env("LOG_DELAY_MS", float, "a number of milliseconds", 0.0)
    if not math.isfinite(delay_ms) or delay_ms < 0:
        raise ValueError(f"delay_ms must be a finite number >= 0, not {delay_ms!r}")
    return delay_ms / 1000.0


def resolve_retry_seconds(retry_seconds: float | None) -> float:
    """Return how long a line may wait for a retry: the argument, else ``LOG_RETRY_SECONDS``."""
    if retry_seconds is None:
        retry_seconds = _from_env(
            "LOG_RETRY_SECONDS", float, "a number of seconds", DEFAULT_RETRY_SECONDS
        )
    if not math.isfinite(retry_seconds) or retry_seconds < 0:
        raise ValueError(f"retry_seconds must be a finite number >= 0, not {retry_seconds!r}")
    return retry_seconds


def resolve_retry_lines(retry_lines: int | None) -> int:
    """Return how many lines may wait for a retry: the argument, else ``LOG_RETRY_LINES``."""
    if retry_lines is None:
        retry_lines = _from_env(
            "LOG_RETRY_LINES", int, "a whole number of lines", DEFAULT_RETRY_LINES
        )
    if isinstance(retry_lines, bool) or not isinstance(retry_lines, int) or retry_lines < 0:
        raise ValueError(f"retry_lines must be a whole number >= 0, not {retry_lines!r}")
    return retry_lines


def _from_env(name: str, parse: Callable[[str], _T], unit: str, default: _T) -> _T:
    """``name``'s value parsed by ``parse``, or ``default`` when it is unset or blank."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError:
        raise ValueError(f"{name} must be {unit}, not {raw!r}") from None

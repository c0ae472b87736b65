"""Numbers from the environment, refused with a message that names the variable.

Every queue implementation reads its settings (``BGREF_WORKERS``,
``BGREF_VISIBILITY_TIMEOUT`` and their kin) the same way: unset or blank means
the default, anything else must parse and be in range, or the process stops at
start with ``<NAME> must be ...`` (the suite checks the words).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["milliseconds", "positive_float", "positive_int"]


def positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds from ``environ[name]``, or ``default`` when unset."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


def positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of at least 1 from ``environ[name]``, or ``default`` when unset."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {raw!r}")
    return value


def milliseconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """A duration given in milliseconds (0 to 1000) from ``environ[name]``, in seconds."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of milliseconds, not {raw!r}") from None
    if not math.isfinite(value) or value < 0 or value > 1000:
        raise ValueError(f"{name} must be between 0 and 1000 milliseconds, not {raw!r}")
    return value / 1000

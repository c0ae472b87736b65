"""Numbers from the environment, refused with a message that names the variable.

Every queue implementation reads its settings (``BGREF_WORKERS``,
``BGREF_VISIBILITY_TIMEOUT`` and their kin) the same way: unset or blank means
the default, anything else must parse and be in range, or the process stops at
start with ``<NAME> must be ...`` (the suite checks the words).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypeVar

__all__ = ["milliseconds", "positive_float", "positive_int"]

N = TypeVar("N", int, float)
D = TypeVar("D")


def positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds from ``environ[name]``, or ``default`` when unset."""
    return _read(
        environ,
        name,
        default,
        float,
        "a number of seconds",
        lambda v: math.isfinite(v) and v > 0,
        "a positive number of seconds",
    )


def positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of at least 1 from ``environ[name]``, or ``default`` when unset."""
    return _read(environ, name, default, int, "a whole number", lambda v: v >= 1, "at least 1")


def milliseconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """A duration given in milliseconds (0 to 1000) from ``environ[name]``, in seconds."""
    value = _read(
        environ,
        name,
        None,
        float,
        "a number of milliseconds",
        lambda v: math.isfinite(v) and 0 <= v <= 1000,
        "between 0 and 1000 milliseconds",
    )
    return default if value is None else value / 1000


def _read(
    environ: Mapping[str, str],
    name: str,
    default: D,
    parse: Callable[[str], N],
    kind: str,
    fits: Callable[[N], bool],
    requirement: str,
) -> N | D:
    # Unset or blank: the default. Otherwise it must parse (else "must be <kind>")
    # and fit (else "must be <requirement>"), each naming the variable and the value.
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ValueError(f"{name} must be {kind}, not {raw!r}") from None
    if not fits(value):
        raise ValueError(f"{name} must be {requirement}, not {raw!r}")
    return value

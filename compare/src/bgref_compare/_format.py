"""How the report, the docs' blocks, the fault matrix and the console write numbers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["duration", "fmt", "ms", "pct", "pinning", "short_ms"]

# What stands where a figure was not measured.
_NONE = "–"


def fmt(value: float | int | None, digits: int = 0) -> str:
    """A number with thousands separators, or an en dash when it was not measured."""
    if value is None:
        return _NONE
    return f"{value:,.{digits}f}"


def pct(value: float | None) -> str:
    """A fraction as a whole percentage."""
    return _NONE if value is None else f"{value * 100:.0f}%"


def ms(value: float | None) -> str:
    """Milliseconds with a sensible number of digits."""
    if value is None:
        return _NONE
    if value < 10:
        return f"{value:.2f} ms"
    if value < 100:
        return f"{value:.1f} ms"
    return f"{value:,.0f} ms"


def short_ms(value: float | None) -> str:
    """Milliseconds in a table cell: fewer digits, seconds from one second on."""
    if value is None:
        return _NONE
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def duration(seconds: float) -> str:
    """``9 min 30 s`` or ``45 s``."""
    whole = max(0, round(seconds))
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{whole} s"


def pinning(cpus: Mapping[str, Any]) -> str:
    """Where a run's processes ran, from ``meta.cpus``."""
    if not cpus.get("pinned"):
        return "no CPU pinning (fewer than two CPUs)"
    servers = ", ".join(str(cpu) for cpu in cpus.get("servers") or [])
    return (
        f"load generator on CPU {cpus.get('loadgen')}, every server process and Redis on "
        f"CPU {servers}"
    )

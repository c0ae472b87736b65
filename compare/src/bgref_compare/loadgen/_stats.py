"""Percentiles, latency summaries and spreads, in plain Python to keep the load generator light."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

__all__ = ["cdf_points", "percentile", "spread", "summarize_ms"]

# The quantiles kept for a distribution chart: dense in the tail, where the differences are.
CDF_QUANTILES: tuple[float, ...] = (
    *(q / 100 for q in range(0, 90, 5)),
    *(q / 100 for q in range(90, 99)),
    0.99,
    0.995,
    0.999,
    1.0,
)


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) of sorted values, linearly interpolated (numpy's default)."""
    if not ordered:
        return math.nan
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q!r} is not within 0..1")
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    frac = pos - low
    return ordered[low] + (ordered[high] - ordered[low]) * frac


def summarize_ms(seconds: Iterable[float]) -> dict[str, float | None]:
    """``p50``, ``p90``, ``p99``, ``max`` and ``mean`` in milliseconds (None when empty)."""
    ordered = sorted(seconds)
    if not ordered:
        return {"p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    return {
        "p50": _ms(percentile(ordered, 0.50)),
        "p90": _ms(percentile(ordered, 0.90)),
        "p99": _ms(percentile(ordered, 0.99)),
        "max": _ms(ordered[-1]),
        "mean": _ms(math.fsum(ordered) / len(ordered)),
    }


def cdf_points(seconds: Iterable[float]) -> list[tuple[float, float]]:
    """``(quantile, milliseconds)`` pairs at ``CDF_QUANTILES``, for a distribution chart."""
    ordered = sorted(seconds)
    if not ordered:
        return []
    return [(q, _ms(percentile(ordered, q))) for q in CDF_QUANTILES]


def spread(values: Sequence[float]) -> dict[str, float | None]:
    """Median, minimum, maximum and relative spread ((max-min)/median) of repeated figures."""
    if not values:
        return {"median": None, "min": None, "max": None, "rel_spread": None}
    median = statistics.median(values)
    low, high = min(values), max(values)
    rel = (high - low) / median if median else None
    return {"median": median, "min": low, "max": high, "rel_spread": rel}


def _ms(seconds: float) -> float:
    # Microsecond precision is plenty and keeps results.json readable.
    return round(seconds * 1000.0, 3)

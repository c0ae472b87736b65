"""A log-bucket latency histogram (HDR-style): a fixed relative precision at every size.

Bucket bounds grow by a fixed ratio, so a value is known to within ``precision``
of itself whether it is 0.2 ms or 20 s, in a few hundred buckets, and two
histograms with the same buckets merge by adding counts. The load generator
counts each phase's response latencies into one; ``results.json`` keeps the
counts, so a percentile the report does not print can still be read back.

Not the PyPI package ``hdrhistogram``: it is a compiled extension, and this is
all the load generator needs, in plain Python.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

__all__ = ["LogHistogram"]


class LogHistogram:
    """Counts of values in milliseconds; bucket ``i`` holds ``(lowest·r^(i-1), lowest·r^i]``.

    With ``r = 1 + 2·precision`` the bucket's geometric middle, which a
    percentile reports, is within ``precision`` of every value in it. Values at
    or below ``lowest_ms`` share bucket 0. Percentiles are nearest-rank (the
    value below which at least that share of the counts lie), clamped to the
    exact minimum and maximum, which are kept beside the counts (and are the
    answer for the first and the last rank).
    """

    def __init__(self, precision: float = 0.01, lowest_ms: float = 0.001) -> None:
        if not 0 < precision < 0.5 or lowest_ms <= 0:
            raise ValueError("precision must be within (0, 0.5) and lowest_ms above 0")
        self.precision = precision
        self.lowest_ms = lowest_ms
        self._log_ratio = math.log1p(2 * precision)
        self.counts: dict[int, int] = {}
        self.total = 0
        self.sum_ms = 0.0
        self.min_ms = math.inf
        self.max_ms = -math.inf

    @classmethod
    def of(cls, values_ms: Iterable[float], precision: float = 0.01) -> LogHistogram:
        """A histogram of ``values_ms``."""
        hist = cls(precision)
        for value in values_ms:
            hist.record(value)
        return hist

    def record(self, value_ms: float) -> None:
        """Count one value."""
        ratio = value_ms / self.lowest_ms
        index = 0 if ratio <= 1.0 else math.ceil(math.log(ratio) / self._log_ratio)
        self.counts[index] = self.counts.get(index, 0) + 1
        self.total += 1
        self.sum_ms += value_ms
        self.min_ms = min(self.min_ms, value_ms)
        self.max_ms = max(self.max_ms, value_ms)

    def merge(self, other: LogHistogram) -> None:
        """Add ``other``'s counts (same buckets only)."""
        if (other.precision, other.lowest_ms) != (self.precision, self.lowest_ms):
            raise ValueError("histograms with different buckets do not merge")
        for index, count in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + count
        self.total += other.total
        self.sum_ms += other.sum_ms
        self.min_ms = min(self.min_ms, other.min_ms)
        self.max_ms = max(self.max_ms, other.max_ms)

    def percentile(self, q: float) -> float | None:
        """The ``q``-quantile (0..1) in milliseconds; None when empty."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile {q!r} is not within 0..1")
        if not self.total:
            return None
        rank = max(1, math.ceil(q * self.total - 1e-9))
        if rank == 1 or rank == self.total:
            return self.min_ms if rank == 1 else self.max_ms  # known exactly
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                middle = self.lowest_ms * math.exp((index - 0.5) * self._log_ratio)
                return min(max(middle, self.min_ms), self.max_ms)
        return self.max_ms  # not reached: the counts add up to the total

    def summary(self) -> dict[str, float | None]:
        """``p50``, ``p90``, ``p99``, ``p999`` (p99.9), ``max`` and ``mean``, in milliseconds."""
        out = {
            key: _round(self.percentile(q))
            for key, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999))
        }
        out["max"] = _round(self.max_ms) if self.total else None
        out["mean"] = _round(self.sum_ms / self.total) if self.total else None
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain data: the counts of the buckets from ``first`` on, as one string of numbers.

        One string, not a list: ``results.json`` is indented, and a list would take
        a line per bucket.
        """
        first = min(self.counts, default=0)
        last = max(self.counts, default=-1)
        return {
            "precision": self.precision,
            "lowest_ms": self.lowest_ms,
            "count": self.total,
            "sum_ms": round(self.sum_ms, 3),
            # Exact: they bound every percentile.
            "min_ms": self.min_ms if self.total else None,
            "max_ms": self.max_ms if self.total else None,
            "first": first,
            "counts": " ".join(str(self.counts.get(i, 0)) for i in range(first, last + 1)),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogHistogram:
        """Read what ``to_json`` wrote."""
        hist = cls(float(data["precision"]), float(data["lowest_ms"]))
        for offset, text in enumerate(str(data["counts"]).split()):
            if int(text):
                hist.counts[int(data["first"]) + offset] = int(text)
        hist.total = int(data["count"])
        hist.sum_ms = float(data["sum_ms"])
        if hist.total:
            hist.min_ms, hist.max_ms = float(data["min_ms"]), float(data["max_ms"])
        return hist


def _round(value: float | None) -> float | None:
    # Microseconds, as the rest of results.json.
    return None if value is None else round(value, 3)

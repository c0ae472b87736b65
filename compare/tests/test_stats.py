"""Percentiles, summaries and spreads."""

from __future__ import annotations

import math

import pytest

from bgref_compare.loadgen._stats import (
    CDF_QUANTILES,
    cdf_points,
    percentile,
    spread,
    summarize_ms,
)


def test_percentile_interpolates_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 1.0) == 4.0
    assert percentile(values, 0.5) == 2.5
    # numpy.percentile([1, 2, 3, 4], 90) == 3.7
    assert percentile(values, 0.9) == pytest.approx(3.7)
    assert percentile([5.0], 0.99) == 5.0
    assert math.isnan(percentile([], 0.5))
    with pytest.raises(ValueError, match="within"):
        percentile(values, 1.5)


def test_summary_in_milliseconds() -> None:
    summary = summarize_ms([0.001 * i for i in range(1, 101)])  # 1..100 ms
    assert summary["p50"] == pytest.approx(50.5)
    assert summary["p99"] == pytest.approx(99.01)
    assert summary["max"] == 100.0
    assert summary["mean"] == pytest.approx(50.5)
    assert summarize_ms([]) == dict.fromkeys(("p50", "p90", "p99", "max", "mean"))


def test_cdf_points_are_monotonic_and_end_at_the_maximum() -> None:
    points = cdf_points([0.003, 0.001, 0.002, 0.010])
    assert [q for q, _ in points] == list(CDF_QUANTILES)
    values = [v for _, v in points]
    assert values == sorted(values)
    assert points[0] == (0.0, 1.0)
    assert points[-1] == (1.0, 10.0)
    assert cdf_points([]) == []


def test_spread() -> None:
    assert spread([10.0, 12.0, 11.0]) == {
        "median": 11.0,
        "min": 10.0,
        "max": 12.0,
        "rel_spread": pytest.approx(2 / 11),
    }
    assert spread([])["median"] is None

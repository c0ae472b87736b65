"""Runs of a made-up ``results.json``, for the tests of what the report makes of them."""

from __future__ import annotations

from typing import Any

from bgref_compare._results import Run

__all__ = ["percentiles", "run"]


def percentiles(p50: float, p99: float) -> Any:
    """A ``latency_ms`` or ``completion_ms`` from its median and its 99th percentile."""
    return {"p50": p50, "p90": (p50 + p99) / 2, "p99": p99, "max": p99 * 2, "mean": p50}


def run(impl: str, variant: str, scenario: str, **extra: Any) -> Run:
    """A run with every field the report reads, healthy and unremarkable unless ``extra`` says."""
    fields: dict[str, Any] = {
        "impl": impl,
        "variant": variant,
        "scenario": scenario,
        "path": "/send-message/",
        "requests": 1000,
        "ok": 1000,
        "errors": 0,
        "rejected": 0,
        "failed": 0,
        "rps": 1000.0,
        "latency_ms": percentiles(1.0, 3.0),
        "completion_ms": percentiles(52.0, 60.0),
        "completion_cdf": [[0.0, 1.0], [0.5, 2.0], [1.0, 40.0]],
        "lost": 0,
        "duplicated": 0,
        "peak_rss_mb": 50.0,
        "loadgen_cpu": 0.4,
        "tail_poll_ms": {"p50": 1.1, "p99": 1.4, "max": 3.0},
    }
    fields.update(extra)
    return fields  # type: ignore[return-value]

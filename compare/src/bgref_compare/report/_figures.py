"""Read-only views of ``results.json`` per implementation (and the number formats, re-exported)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from bgref_compare import registry
from bgref_compare._format import fmt, ms, pct
from bgref_compare._results import Results, Run, find_runs
from bgref_compare.scenarios._capacity import Theory, declared_theory

__all__ = ["Figures", "fmt", "ms", "pct", "ratio_target"]


def ratio_target(impl: str) -> float | None:
    """The ratio ``impl`` declares it should keep (send-message rps / baseline rps)."""
    return registry.get(impl).ratio_target if impl in registry.IMPL_IDS else None


@dataclass(frozen=True)
class Figures:
    """Every run of one implementation (or pitfall-lab variant), by scenario."""

    impl: str
    variant: str
    send: Run | None
    baseline: Run | None
    below: Run | None
    above: Run | None
    scale: list[Run]
    # The probe's capacity and its validation (schema 2; None in older results).
    check: Run | None = None
    # The capacity through a hot-connection client, beside the spread one (multi-process).
    hot: Run | None = None

    @classmethod
    def of(cls, results: Results, impl: str, variant: str = "default") -> Figures:
        """Collect the runs of ``impl``/``variant`` from ``results``."""

        def one(**match: object) -> Run | None:
            runs = find_runs(results, impl=impl, **match)
            return runs[0] if runs else None

        return cls(
            impl=impl,
            variant=variant,
            send=one(scenario="throughput", endpoint="send-message", variant=variant),
            baseline=one(scenario="throughput", endpoint="baseline"),
            below=one(scenario="slow-work", load="below", variant=variant),
            above=one(scenario="slow-work", load="above", variant=variant),
            scale=sorted(
                find_runs(results, impl=impl, scenario="scale-out", variant=variant),
                key=lambda r: r.get("workers") or 0,
            ),
            check=one(scenario="capacity", variant=variant),
            hot=one(scenario="hot-connections", variant=variant),
        )

    @property
    def name(self) -> str:
        """``impl`` or ``impl · variant``."""
        return self.impl if self.variant == "default" else f"{self.impl} · {self.variant}"

    @property
    def ratio(self) -> float | None:
        """send-message rps / baseline rps."""
        return self.send.get("ratio") if self.send else None

    @property
    def measured_capacity(self) -> float | None:
        """Messages per second completed under slow work, as probed, validated or not."""
        run = self.check or self.below or self.above
        return run.get("capacity_rps") if run else None

    @property
    def verdict(self) -> str | None:
        """The capacity's validation (``_capacity.verdict``); None where none ran (schema 1)."""
        return self.check.get("capacity_verdict") if self.check else None

    @property
    def capacity(self) -> float | None:
        """The capacity to quote: None when it failed its own validation."""
        if self.verdict not in (None, "confirmed"):
            return None
        return self.measured_capacity

    def theory(self, delay_ms: float) -> Theory | None:
        """The capacity the declared workers allow (None where the work awaits)."""
        run = self.check or self.below or self.above
        return declared_theory(dict(run), delay_ms) if run else None

    @property
    def extra_us(self) -> float | None:
        """Server CPU per request that send-message costs above baseline, in microseconds.

        Valid because the servers are pinned to one CPU and saturated in the
        throughput scenario: 1/rps is the CPU time of one request.
        """
        if not self.send or not self.baseline or not self.send["rps"] or not self.baseline["rps"]:
            return None
        return 1e6 / self.send["rps"] - 1e6 / self.baseline["rps"]

    def latency(self, run: Run | None, key: str) -> float | None:
        """A response-latency percentile of ``run``."""
        if run is None:
            return None
        value = cast(dict[str, float | None], run["latency_ms"]).get(key)
        return float(value) if value is not None else None

    def completion(self, run: Run | None, key: str) -> float | None:
        """A completion-latency percentile of ``run``."""
        if run is None or run["completion_ms"] is None:
            return None
        value = cast(dict[str, float | None], run["completion_ms"]).get(key)
        return float(value) if value is not None else None

    def lost(self) -> int:
        """Acknowledged messages missing from the log, over every run."""
        return sum(r["lost"] or 0 for r in self._runs())

    def duplicated(self) -> int:
        """Messages written more than once, over every run."""
        return sum(r["duplicated"] or 0 for r in self._runs())

    def _runs(self) -> list[Run]:
        runs = (self.send, self.below, self.above, self.check, self.hot, *self.scale)
        return [r for r in runs if r]

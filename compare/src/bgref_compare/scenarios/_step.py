"""A step of the comparison: one unit that runs and returns its ``Run`` records, with the
estimated duration the progress bar adds up.

Every scenario module plans its own steps; this is what they have in common.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bgref_compare._results import Run
from bgref_compare.registry import Impl

__all__ = ["Step", "impl_steps", "start_seconds"]


def start_seconds(impl: Impl) -> float:
    """About how long ``impl`` takes to start and stop, for the progress estimate.

    From what it runs: each process (an interpreter importing its framework) and,
    with a broker, a private Redis to start and a worker to shut down warm.
    """
    return 1.5 * len(impl.processes) + (2.0 if impl.needs_redis else 0.0)


@dataclass(frozen=True)
class Step:
    """One unit of the comparison, with its estimated duration for the progress bar."""

    scenario: str
    impl: str
    variant: str
    label: str
    seconds: float
    run: Callable[[], list[Run]]


def impl_steps(
    scenario: str,
    variant: str,
    impls: Sequence[Impl],
    seconds: Callable[[Impl], float],
    run: Callable[[Impl], object],
) -> list[Step]:
    """One step per implementation that ``seconds`` gives something to do (a positive estimate).

    For the scenarios that record their own rows (the faults write to a sink)
    rather than return ``Run`` records: each step returns none.
    """
    steps = []
    for impl in impls:
        estimate = seconds(impl)
        if estimate <= 0:
            continue

        def each(impl: Impl = impl) -> list[Run]:
            run(impl)
            return []

        label = f"{scenario} · {impl.id}" + ("" if variant == "default" else f" · {variant}")
        steps.append(Step(scenario, impl.id, variant, label, estimate, each))
    return steps

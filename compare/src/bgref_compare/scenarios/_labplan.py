"""Which of the pitfall lab's variants a profile runs, and how much of each scenario they get.

Ten variants measured like the four implementations would double the default
profile. Each one is there to show how it differs from its implementation, so
the shorter profiles give it less: a share of each throughput slice (its ratio
is still paired with the baseline slices of the same repetition), a probed
capacity without the validation loops, and only the slow-work loads its
registry entry says show the difference (``Variant.shows_at``). The reference
profile (``full``) measures every variant like an implementation.
"""

from __future__ import annotations

from bgref_compare.registry import Impl, Variant

__all__ = ["LOADS", "lab_variants", "loads_of"]

# The slow-work open loops, by name: below and above the measured capacity.
LOADS = ("below", "above")


def lab_variants(impl: Impl, per_impl: int = 0) -> list[Variant]:
    """The benchmarked variants of ``impl``: the first ``per_impl`` of them (0: all)."""
    measured = [v for v in impl.variants if v.benchmarked]
    return measured[:per_impl] if per_impl else measured


def loads_of(variant: Variant | None, every_load: bool) -> tuple[str, ...]:
    """The slow-work loads a variant (None: the implementation) runs at.

    Every one, or only those that show its difference from the implementation.
    """
    if every_load or variant is None:
        return LOADS
    return tuple(load for load in LOADS if load in variant.shows_at) or LOADS

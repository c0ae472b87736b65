"""The pitfall lab's variants under the faults that apply to them: rows of the fault matrix.

A variant is put through the faults ``Impl.variant_faults`` names (those it
declares it loses, and the contrast: the same fault for its sibling that claims
the contract), with the fault toolkit of ``_faults``: the same burst, strike
and accounting as the implementation's own rows, sent to the variant's route.
Each row records what the registry declares the variant loses to that fault,
so that the report sets declared against measured from ``results.json`` alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from bgref_compare._profile import Profile
from bgref_compare.loadgen._bench import Bench, RunningStack
from bgref_compare.registry import (
    GC,
    SIGTERM,
    TASK_ERROR,
    WORKER_CHILD_SIGKILL,
    Impl,
    Process,
    Variant,
)

from ._faultmatrix import FaultRow
from ._faults import FaultSink, _fault_stack, _guarded, _revive, _strike_once
from ._step import Step, impl_steps, start_seconds
from ._strikes import Fault, fault_kinds

__all__ = ["MATRIX_NAMES", "STOP_DELAY_MS", "plan_variant_fault_steps", "variant_faults"]

# The registry's faults by the fault matrix's names.
MATRIX_NAMES = {
    SIGTERM: "graceful-stop",
    WORKER_CHILD_SIGKILL: "pool-child-crash",
    # The lab's own collector runs every 10 ms, and the raising task is on the
    # route: the burst alone is the fault.
    GC: "gc",
    TASK_ERROR: "task-error",
}
# A SIGTERM loses what is still pending when the server's grace ends: with the
# matrix's 20 ms of work almost nothing is, so the variants' stop runs with work
# longer than the shortest grace a variant sets (``short-grace``'s 1 s), as the
# contract suite does. Each row records the work it ran with.
STOP_DELAY_MS = 1500.0
# The no-strike faults first, the ones that stop a process last (each needs a restart).
_ORDER = ("gc", "task-error", "pool-child-crash", "graceful-stop")


def variant_faults(
    impl: Impl, wanted: Sequence[str] = (), per_impl: int = 0
) -> list[tuple[Variant, str]]:
    """``(variant, matrix fault)`` for each fault a variant of ``impl`` is put through.

    Only the faults of ``wanted`` (matrix names) if it is not empty, and only
    for the first ``per_impl`` variants that have one (0: every variant).
    """
    found: list[tuple[Variant, str]] = []
    variants: list[str] = []
    for variant in impl.variants:
        faults = [
            MATRIX_NAMES[f]
            for f in impl.variant_faults(variant)
            if f in MATRIX_NAMES and (not wanted or MATRIX_NAMES[f] in wanted)
        ]
        if faults and (not per_impl or len(variants) < per_impl):
            variants.append(variant.name)
            found += [(variant, fault) for fault in faults]
    return sorted(found, key=lambda pair: _ORDER.index(pair[1]))


def _delay(profile: Profile, fault: str) -> float:
    return STOP_DELAY_MS if fault == "graceful-stop" else profile.fault_delay_ms


_StackKey = tuple[tuple[str, ...], Process | None, float]


def _groups(
    pairs: list[tuple[Variant, str]], profile: Profile
) -> dict[_StackKey, list[tuple[Variant, str]]]:
    """The faults by the stack they need: the variant's server arguments, worker, work time."""
    groups: dict[_StackKey, list[tuple[Variant, str]]] = {}
    for variant, fault in pairs:
        key = (variant.web_args, variant.worker, _delay(profile, fault))
        groups.setdefault(key, []).append((variant, fault))
    return groups


def _row(
    bench: Bench,
    profile: Profile,
    running: RunningStack,
    variant: Variant,
    fault: str,
    delay: float,
) -> FaultRow:
    strikes: dict[str, Fault] = {**fault_kinds(profile), "gc": Fault(lambda r: None)}
    strikes["task-error"] = strikes["gc"]
    row = _strike_once(
        bench,
        profile,
        running,
        fault,
        strikes[fault],
        (variant.name, variant.path),
    )
    row["delay_ms"] = delay
    # What the registry declares the variant loses to this fault (None: nothing).
    declared = {MATRIX_NAMES[k]: v for k, v in variant.loses.items() if k in MATRIX_NAMES}
    row["declared"] = declared.get(fault)
    return row


def run_variant_faults(bench: Bench, profile: Profile, impl: Impl, sink: FaultSink) -> None:
    """Every variant fault of ``impl``, one stack per server setting and work time."""
    pairs = variant_faults(impl, profile.fault_names, profile.variants_per_impl)
    for (_, _, delay), members in _groups(pairs, profile).items():
        serving = impl.serving(members[0][0])
        env = {"LOG_DELAY_MS": f"{delay:g}"}
        with _fault_stack(bench, profile, serving, env) as running:
            for i, (variant, fault) in enumerate(members):
                one = partial(_row, bench, profile, running, variant, fault, delay)
                _guarded(sink, impl, f"{fault} · {variant.name}", one)
                if i < len(members) - 1:
                    _revive(running)


def plan_variant_fault_steps(
    bench: Bench,
    profile: Profile,
    impls: Sequence[Impl],
    scenarios: Sequence[str],
    sink: FaultSink,
) -> list[Step]:
    """One step per implementation whose variants have faults, when ``faults`` is chosen."""
    if "faults" not in scenarios:
        return []
    return impl_steps(
        "faults",
        "variants",
        impls,
        partial(_variant_fault_seconds, profile),
        lambda impl: run_variant_faults(bench, profile, impl, sink),
    )


def _variant_fault_seconds(profile: Profile, impl: Impl) -> float:
    """About how long ``impl``'s variant faults take (0 when none applies)."""
    burst = profile.fault_burst / profile.fault_rate
    seconds = 0.0
    pairs = variant_faults(impl, profile.fault_names, profile.variants_per_impl)
    for members in _groups(pairs, profile).values():
        seconds += start_seconds(impl)
        for i, (variant, fault) in enumerate(members):
            # The burst and the settling's second of quiet; a stop also waits for
            # the longer work where the variant claims the contract, and the web
            # server starts again unless the stack ends there.
            seconds += burst + 1.0
            if fault == "graceful-stop":
                seconds += STOP_DELAY_MS / 1000 if variant.claims_contract else 0.0
                seconds += start_seconds(impl) if i < len(members) - 1 else 0.0
            elif fault == "pool-child-crash":
                seconds += 2.0
    return seconds

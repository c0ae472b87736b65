"""The scenarios the comparison runs: throughput, slow work, scale-out, the load and
concurrency curves, soak, faults, and the load generator's own check against a trivial
server; each returns ``Run`` records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgref_compare._lazy import lazy_names

if TYPE_CHECKING:
    from ._capacity import (
        GAP,
        KEEP_UP_S,
        OVER,
        UNDER,
        Theory,
        awaited_at_once,
        declared_theory,
        describe_gap,
        falls_behind,
        keeps_up,
        spread_policy,
        theory,
        verdict,
    )
    from ._curves import (
        CONCURRENCY,
        LOAD_CURVE,
        curve_impls,
        curves,
        plan_curve_steps,
        reference_rps,
    )
    from ._faultmatrix import (
        DOCS_END,
        DOCS_START,
        FAULTS,
        FaultRow,
        fault_row,
        matrix_lines,
        replace_marked,
        rows_of,
    )
    from ._faults import FaultSink, applicable_faults, plan_fault_steps, run_faults
    from ._hotconnections import hot_connections
    from ._labplan import LOADS, lab_variants, loads_of
    from ._paths import DEFAULT_VARIANT, SEND_PATH
    from ._plan import plan_steps
    from ._scaleout import scale_out
    from ._selfcheck import selfcheck, writer_cost
    from ._slowwork import slow_work
    from ._soak import FLAT_WITHIN, memory_growth, plan_soak_steps, soak
    from ._step import Step, start_seconds
    from ._throughput import throughput
    from ._trivial import ANSWER, TrivialProtocol
    from ._variantfaults import (
        MATRIX_NAMES,
        STOP_DELAY_MS,
        plan_variant_fault_steps,
        variant_faults,
    )

# Loaded on first use: ``python -m bgref_compare.scenarios._trivial`` imports this package
# first, and must find ``_trivial`` not yet imported (else runpy warns) and start fast.
_LAZY = {
    "CONCURRENCY": "._curves",
    "LOAD_CURVE": "._curves",
    "curve_impls": "._curves",
    "curves": "._curves",
    "plan_curve_steps": "._curves",
    "reference_rps": "._curves",
    "MATRIX_NAMES": "._variantfaults",
    "STOP_DELAY_MS": "._variantfaults",
    "plan_variant_fault_steps": "._variantfaults",
    "variant_faults": "._variantfaults",
    "LOADS": "._labplan",
    "lab_variants": "._labplan",
    "loads_of": "._labplan",
    "GAP": "._capacity",
    "KEEP_UP_S": "._capacity",
    "OVER": "._capacity",
    "UNDER": "._capacity",
    "Theory": "._capacity",
    "awaited_at_once": "._capacity",
    "declared_theory": "._capacity",
    "describe_gap": "._capacity",
    "falls_behind": "._capacity",
    "keeps_up": "._capacity",
    "spread_policy": "._capacity",
    "theory": "._capacity",
    "verdict": "._capacity",
    "DOCS_END": "._faultmatrix",
    "DOCS_START": "._faultmatrix",
    "FAULTS": "._faultmatrix",
    "FaultRow": "._faultmatrix",
    "fault_row": "._faultmatrix",
    "matrix_lines": "._faultmatrix",
    "replace_marked": "._faultmatrix",
    "rows_of": "._faultmatrix",
    "FaultSink": "._faults",
    "applicable_faults": "._faults",
    "plan_fault_steps": "._faults",
    "run_faults": "._faults",
    "DEFAULT_VARIANT": "._paths",
    "SEND_PATH": "._paths",
    "Step": "._step",
    "start_seconds": "._step",
    "plan_steps": "._plan",
    "throughput": "._throughput",
    "slow_work": "._slowwork",
    "hot_connections": "._hotconnections",
    "scale_out": "._scaleout",
    "selfcheck": "._selfcheck",
    "writer_cost": "._selfcheck",
    "FLAT_WITHIN": "._soak",
    "memory_growth": "._soak",
    "plan_soak_steps": "._soak",
    "soak": "._soak",
    "ANSWER": "._trivial",
    "TrivialProtocol": "._trivial",
}


__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [
    "ANSWER",
    "CONCURRENCY",
    "DEFAULT_VARIANT",
    "DOCS_END",
    "DOCS_START",
    "FAULTS",
    "FLAT_WITHIN",
    "GAP",
    "KEEP_UP_S",
    "LOADS",
    "LOAD_CURVE",
    "MATRIX_NAMES",
    "OVER",
    "SEND_PATH",
    "STOP_DELAY_MS",
    "UNDER",
    "FaultRow",
    "FaultSink",
    "Step",
    "Theory",
    "TrivialProtocol",
    "applicable_faults",
    "awaited_at_once",
    "curve_impls",
    "curves",
    "declared_theory",
    "describe_gap",
    "falls_behind",
    "fault_row",
    "hot_connections",
    "keeps_up",
    "lab_variants",
    "loads_of",
    "matrix_lines",
    "memory_growth",
    "plan_curve_steps",
    "plan_fault_steps",
    "plan_soak_steps",
    "plan_steps",
    "plan_variant_fault_steps",
    "reference_rps",
    "replace_marked",
    "rows_of",
    "run_faults",
    "scale_out",
    "selfcheck",
    "slow_work",
    "soak",
    "spread_policy",
    "start_seconds",
    "theory",
    "throughput",
    "variant_faults",
    "verdict",
    "writer_cost",
]

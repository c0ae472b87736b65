"""The report, written from ``results.json`` alone: figures, verdicts, findings, charts, the
fault matrix's markdown, the blocks of the docs between markers, and the console output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgref_compare._lazy import lazy_names

if TYPE_CHECKING:
    from ._charts import CHARTS, draw_charts
    from ._console import (
        ProgressBar,
        closing_lines,
        duration,
        print_summary,
        progress_bar,
        time_left,
    )
    from ._curvecharts import CURVE_DRAWERS
    from ._curvereport import CURVE_SCENARIOS, curve_lines, serving
    from ._curveverdicts import (
        FAIR_MULTIPLE,
        GENERATOR_LIMIT,
        HOLDS_SHARE,
        KNEE_FACTOR,
        ROUNDS,
        Knee,
        generator_bound,
        holds_throughput,
        knee,
        load_curve,
        queueing,
        saturation,
        steady,
        sweep,
        threads_suffice,
    )
    from ._figures import Figures, fmt, ms, pct, ratio_target
    from ._findings import approach_advice, tutorial_claims
    from ._lab import lab_fault_lines, lab_section, tuning_advice
    from ._meta import PACKAGES, collect_meta
    from ._profiletable import estimate_seconds, profile_table
    from ._published import (
        DOC_GLOBS,
        MARKER,
        doc_files,
        render_block,
        render_marked,
        source_line,
        write_marked,
    )
    from ._report import render_report, write_report
    from ._verdicts import (
        ACCEPTED_SHARE,
        Verdict,
        advice_is_better,
        direct_call_blocks,
        fault_claim,
        overload,
        responds_first,
        responsive,
        responsive_claim,
    )

# Loaded on first use, like the rest of the comparison: matplotlib and the scenarios the
# profile table plans load only when a report is written.
_LAZY = {
    "CURVE_DRAWERS": "._curvecharts",
    "CURVE_SCENARIOS": "._curvereport",
    "curve_lines": "._curvereport",
    "serving": "._curvereport",
    "FAIR_MULTIPLE": "._curveverdicts",
    "GENERATOR_LIMIT": "._curveverdicts",
    "HOLDS_SHARE": "._curveverdicts",
    "KNEE_FACTOR": "._curveverdicts",
    "ROUNDS": "._curveverdicts",
    "Knee": "._curveverdicts",
    "generator_bound": "._curveverdicts",
    "holds_throughput": "._curveverdicts",
    "knee": "._curveverdicts",
    "load_curve": "._curveverdicts",
    "queueing": "._curveverdicts",
    "saturation": "._curveverdicts",
    "steady": "._curveverdicts",
    "sweep": "._curveverdicts",
    "threads_suffice": "._curveverdicts",
    "lab_fault_lines": "._lab",
    "lab_section": "._lab",
    "tuning_advice": "._lab",
    "CHARTS": "._charts",
    "draw_charts": "._charts",
    "ProgressBar": "._console",
    "closing_lines": "._console",
    "duration": "._console",
    "print_summary": "._console",
    "progress_bar": "._console",
    "time_left": "._console",
    "Figures": "._figures",
    "fmt": "._figures",
    "ms": "._figures",
    "pct": "._figures",
    "ratio_target": "._figures",
    "approach_advice": "._findings",
    "tutorial_claims": "._findings",
    "PACKAGES": "._meta",
    "collect_meta": "._meta",
    "estimate_seconds": "._profiletable",
    "profile_table": "._profiletable",
    "DOC_GLOBS": "._published",
    "MARKER": "._published",
    "doc_files": "._published",
    "render_block": "._published",
    "render_marked": "._published",
    "source_line": "._published",
    "write_marked": "._published",
    "render_report": "._report",
    "write_report": "._report",
    "ACCEPTED_SHARE": "._verdicts",
    "Verdict": "._verdicts",
    "advice_is_better": "._verdicts",
    "fault_claim": "._verdicts",
    "direct_call_blocks": "._verdicts",
    "overload": "._verdicts",
    "responds_first": "._verdicts",
    "responsive": "._verdicts",
    "responsive_claim": "._verdicts",
}


__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [
    "ACCEPTED_SHARE",
    "CHARTS",
    "CURVE_DRAWERS",
    "CURVE_SCENARIOS",
    "DOC_GLOBS",
    "FAIR_MULTIPLE",
    "GENERATOR_LIMIT",
    "HOLDS_SHARE",
    "KNEE_FACTOR",
    "MARKER",
    "PACKAGES",
    "ROUNDS",
    "Figures",
    "Knee",
    "ProgressBar",
    "Verdict",
    "advice_is_better",
    "approach_advice",
    "closing_lines",
    "collect_meta",
    "curve_lines",
    "direct_call_blocks",
    "doc_files",
    "draw_charts",
    "duration",
    "estimate_seconds",
    "fault_claim",
    "fmt",
    "generator_bound",
    "holds_throughput",
    "knee",
    "lab_fault_lines",
    "lab_section",
    "load_curve",
    "ms",
    "overload",
    "pct",
    "print_summary",
    "profile_table",
    "progress_bar",
    "queueing",
    "ratio_target",
    "render_block",
    "render_marked",
    "render_report",
    "responds_first",
    "responsive",
    "responsive_claim",
    "saturation",
    "serving",
    "source_line",
    "steady",
    "sweep",
    "threads_suffice",
    "time_left",
    "tuning_advice",
    "tutorial_claims",
    "write_marked",
    "write_report",
]

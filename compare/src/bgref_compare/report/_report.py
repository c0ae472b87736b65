"""The markdown report (``report.md``) and its charts, written from ``results.json`` alone."""

from __future__ import annotations

from pathlib import Path

from bgref_compare._results import Results

from ._charts import draw_charts
from ._curvereport import curve_lines
from ._faultreport import _faults
from ._findings import approach_advice
from ._lab import lab_section, tuning_advice
from ._markdown import _image, _table
from ._method import _failures, _method
from ._overview import _header, _summary
from ._pitfalls import _pitfalls
from ._queues import queue_advice, queue_section
from ._scaleout import _scale_out
from ._slowwork import _slow_work
from ._soak import _soak
from ._throughput import _throughput

__all__ = ["render_report", "write_report"]


def render_report(results: Results, charts: list[str]) -> str:
    """The whole report as markdown."""
    lines = [
        *_header(results),
        *_summary(results),
        "## Which approach when",
        "",
    ]
    # Schema 4 sets every approach's idiomatic versions against it (the pitfall lab);
    # older results render as they always did.
    lab = results.get("schema", 0) >= 4
    advice = [
        *approach_advice(results),
        *queue_advice(results),
        *(tuning_advice(results) if lab else []),
    ]
    for paragraph in advice:
        lines += [f"- {paragraph}", ""]
    lines += [
        *_throughput(results, charts),
        *_slow_work(results, charts),
        *(lab_section(results) if lab else _pitfalls(results)),
        *_scale_out(results, charts),
        *queue_section(results),
        *curve_lines(results, _table, lambda name: _image(name, charts)),
        *_soak(results),
        *_faults(results),
        *_failures(results),
        *_method(results),
    ]
    return "\n".join(lines).rstrip() + "\n"


def write_report(results: Results, out_dir: Path) -> Path:
    """Draw the charts and write ``report.md`` into ``out_dir``; return the report's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = draw_charts(results, out_dir)
    path = out_dir / "report.md"
    path.write_text(render_report(results, charts))
    return path

"""stub"""

from __future__ import annotations

from pathlib import Path

from ._results import Results


def write_report(results: Results, out_dir: Path) -> Path:
    """stub."""
    path = out_dir / "report.md"
    path.write_text("stub\n")
    return path

"""The published figures are what the published results.json renders, with the current code.

The reference run in docs/reference-run/ and every marked block of the docs
(README.md, docs/, the package READMEs) are rendered from one results.json. If
this fails after a change to the report's code, re-render them:

    python -m bgref_compare report docs/reference-run/results.json --write-docs
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bgref_compare._results import Results, load_results
from bgref_compare.report._charts import CHARTS
from bgref_compare.report._published import MARKER, doc_files, render_marked, write_marked
from bgref_compare.report._report import render_report
from bgref_compare.scenarios._faultmatrix import DOCS_END, DOCS_START

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "docs" / "reference-run"
RERENDER = "python -m bgref_compare report docs/reference-run/results.json --write-docs"


@pytest.fixture(scope="module")
def published() -> Results:
    return load_results(PUBLISHED / "results.json")


def test_the_published_report_is_what_its_results_render(published: Results) -> None:
    charts = [name for name in CHARTS if (PUBLISHED / name).is_file()]
    rendered = render_report(published, charts)
    assert (PUBLISHED / "report.md").read_text() == rendered, (
        f"docs/reference-run/report.md differs from its results.json: run `{RERENDER}`"
    )


def test_every_marked_block_is_what_the_published_results_render(published: Results) -> None:
    files = doc_files(ROOT)
    assert ROOT / "README.md" in files
    assert ROOT / "packages" / "flask" / "README.md" in files
    blocks = {m.group("name") for path in files for m in MARKER.finditer(path.read_text())}
    # The check is not empty: the fault matrix, at least, is rendered.
    assert "fault-matrix" in blocks
    stale = [
        str(path.relative_to(ROOT))
        for path in files
        if render_marked(path.read_text(), published) != path.read_text()
    ]
    assert not stale, (
        f"marked figures differ from the published results: {stale}; run `{RERENDER}`"
    )


def test_a_block_without_a_renderer_cannot_be_published(published: Results) -> None:
    with pytest.raises(ValueError, match="no rendered block 'made-up'"):
        render_marked("<!-- made-up:start -->\n42\n<!-- made-up:end -->\n", published)


def test_blocks_are_written_between_their_markers(tmp_path: Path, published: Results) -> None:
    doc = tmp_path / "failure-semantics.md"
    doc.write_text(
        f"# Failure\n\n{DOCS_START}\n*to be filled*\n{DOCS_END}\n\n"
        "<!-- figures:flask:start -->\n<!-- figures:flask:end -->\n"
        "Prose may name `<!-- figures:flask:start -->` without a block.\n"
    )
    assert write_marked(doc, published)
    text = doc.read_text()
    assert f"{DOCS_START}\n\nFrom a `" in text
    assert "*to be filled*" not in text
    assert "| fault | fastapi | starlette | flask | celery |" in text
    assert "<!-- figures:flask:start -->\n\nFrom a `" in text
    assert "- Throughput without simulated work: send-message " in text
    assert "<!-- figures:flask:end -->\nProse may name `<!-- figures:flask:start -->` " in text

    # Rendering again changes nothing.
    assert not write_marked(doc, published)


# A measured figure: a time per call, a rate, a ratio or a speed-up. Settings
# (20 ms of work, a 30 s timeout, 50% of capacity) are not caught, by design.
_FIGURE = re.compile(
    r"\d[\d,.]*\s?(?:µs|rps|requests/s|messages/s|lines/s)\b|\bratio (?:of )?\d\.\d|\d\.\d+×"
)
_DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")
_COMMAND = re.compile(r"`(?:python3? |nox |uv run )[^`]*`|`[^`\s]+\.py\b[^`]*`")


def test_a_figure_outside_a_rendered_block_names_its_command_and_date() -> None:
    """Each section with a measured figure that is not rendered names a date and a command."""
    unsourced = []
    for path in doc_files(ROOT):
        text = MARKER.sub("", path.read_text())
        for section in re.split(r"\n(?=#{1,4} )", text):
            figure = _FIGURE.search(section)
            if figure and not (_DATE.search(section) and _COMMAND.search(section)):
                title = section.lstrip().splitlines()[0]
                unsourced.append(f"{path.relative_to(ROOT)} · {title} · {figure.group(0)!r}")
    assert not unsourced, "figures with neither a rendered source nor a command and date: " + (
        "; ".join(unsourced)
    )

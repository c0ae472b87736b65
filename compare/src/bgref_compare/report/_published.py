"""Blocks of the docs rendered from a published ``results.json``, between markers.

A figure in ``README.md``, ``docs/`` or a package's README either sits between
``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` and is rendered here from the
published run, or stands beside the command that reproduces it. The compare
tests re-render every marked block (and the published ``report.md``) and fail
on any difference, so a block cannot drift from its data.

Blocks: ``fault-matrix`` (the fault matrix, in ``docs/failure-semantics.md``),
``figures:IMPL`` (one implementation's headline figures, for its README),
``run`` (the machine, the run and its targets, in ``docs/reference-run/README.md``),
and two from the code rather than the run: ``profiles`` (``compare/README.md``)
and ``implementations`` (the registry's entries, in ``README.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from bgref_compare import registry
from bgref_compare._format import pinning
from bgref_compare._results import Results
from bgref_compare.scenarios._faultmatrix import matrix_lines, rows_of

from ._cpu import behind_sentence, cpu_sentence, parts_sentence
from ._figures import Figures, fmt, ms, ratio_target
from ._verdicts import overload

__all__ = [
    "DOC_GLOBS",
    "MARKER",
    "doc_files",
    "render_block",
    "render_marked",
    "source_line",
    "write_marked",
]

# The files whose figures must have a source, relative to the repository's root.
DOC_GLOBS = (
    "README.md",
    "docs/*.md",
    "docs/*/README.md",
    "packages/*/README.md",
    "shared/README.md",
    "compare/README.md",
)

# <!-- NAME:start --> ... <!-- NAME:end -->, NAME being a block and its argument.
# Each marker on a line of its own, so that prose may name a marker without one.
MARKER = re.compile(
    r"^<!-- (?P<name>[a-z-]+(?::[a-z0-9-]+)?):start -->$(?P<body>.*?)^<!-- (?P=name):end -->$",
    re.S | re.M,
)


def source_line(results: Results) -> str:
    """Which run the figures come from: profile, date, commit, machine."""
    meta = results["meta"]
    commit = str(meta.get("git_commit") or "unknown")[:12]
    return (
        f"From a `{meta.get('params', {}).get('name', '?')}` run of `python -m bgref_compare "
        f"compare` on {str(meta.get('date', ''))[:10]} (commit `{commit}`), "
        f"{meta.get('cpu_count')} CPUs ({meta.get('cpu_model') or 'unknown model'}); the full "
        "figures are in that run's `report.md`."
    )


def _fault_matrix(results: Results, arg: str) -> list[str]:
    return [source_line(results), "", *matrix_lines(rows_of(results.get("faults") or []))]


def _figures(results: Results, impl: str) -> list[str]:
    fig = Figures.of(results, impl)
    delay = results["meta"].get("params", {}).get("delay_ms")
    send, base = fig.send, fig.baseline
    extra = fig.extra_us
    lines = [
        source_line(results),
        "",
        f"- Throughput without simulated work: send-message {fmt(send['rps'] if send else None)}"
        f" requests/s against {fmt(base['rps'] if base else None)} for the baseline, a ratio "
        f"of {fmt(fig.ratio, 2)}: send-message cost "
        + ("–" if extra is None else f"{fmt(extra, 1)} µs")
        + " more server CPU per request than the baseline.",
        *(
            [
                f"- Where it went:{behind_sentence(send)}{cpu_sentence(send)}"
                + parts_sentence(send, ratio_target(impl))
            ]
            if send and (send.get("cpu_us") or behind_sentence(send))
            else []
        ),
        f"- With {fmt(delay)} ms of work per message: {fmt(fig.capacity)} messages/s "
        f"completed; below capacity, completion p99 {ms(fig.completion(fig.below, 'p99'))} "
        f"and response p99 {ms(fig.latency(fig.below, 'p99'))}.",
        f"- Above capacity: {overload(fig).basis}; peak memory "
        f"{fmt(fig.above['peak_rss_mb'] if fig.above else None)} MB.",
    ]
    points = [(r.get("workers"), r.get("completed_rps")) for r in fig.scale]
    if len(points) > 1:
        steps = ", ".join(f"{w} → {fmt(c)}/s" for w, c in points)
        lines.append(f"- Completed with `BGREF_WORKERS` set to: {steps}.")
    lines.append(f"- Lost / duplicated over these runs: {fig.lost()} / {fig.duplicated()}.")
    return lines


def _run(results: Results, arg: str) -> list[str]:
    meta = results["meta"]
    params = meta.get("params", {})
    minutes = (meta.get("duration_s") or 0) / 60
    targets = []
    for impl, ratio in results["ratios"].items():
        send = Figures.of(results, impl).send
        reps: list[float] = (send.get("ratio_reps") if send else None) or []
        spread = f" ({fmt(min(reps), 2)}–{fmt(max(reps), 2)})" if len(reps) > 1 else ""
        target = ratio_target(impl)
        verdict = (
            ""
            if target is None or ratio is None
            else (f", target {target}: {'met' if ratio >= target else '**not met**'}")
        )
        targets.append(f"`{impl}` {fmt(ratio, 2)}{spread}{verdict}")
    load = meta.get("load_average") or ["?"]
    return [
        "| | |",
        "| --- | --- |",
        f"| CPU | {meta.get('cpu_count')} CPUs, {meta.get('cpu_model') or 'unknown model'} |",
        f"| memory | {fmt(meta.get('memory_gb'), 1)} GB |",
        f"| platform | {meta.get('platform', '?')} |",
        f"| Python | {meta.get('python_implementation', '')} {meta.get('python', '?')} |",
        f"| pinning | {pinning(meta.get('cpus', {}))} |",
        f"| date | {str(meta.get('date', '?'))[:10]}, {fmt(minutes)} minutes (profile "
        f"`{params.get('name', '?')}`, {params.get('throughput_reps', '?')} throughput "
        "repetitions) |",
        "",
        f"The run is of commit `{str(meta.get('git_commit') or 'unknown')[:12]}` "
        + ("with uncommitted changes" if meta.get("git_dirty") else "with a clean work tree")
        + f" (`meta.git_commit`, `meta.git_dirty`), at a load average of {load[0]} at the "
        "start. Send-message rps / baseline rps, the median of the paired repetitions "
        "(min–max): " + "; ".join(targets) + ".",
    ]


def _profiles(results: Results, arg: str) -> list[str]:
    # From the code, not the results: the profiles the harness runs today.
    from ._profiletable import profile_table

    return profile_table()


def _implementations(results: Results, arg: str) -> list[str]:
    # From the registry, not the results: the README's table of the approaches.
    return [
        "| id | package | how the work is done after the response |",
        "| --- | --- | --- |",
        *(
            f"| `{impl.id}` | [`{impl.path}`]({impl.path}) | {impl.summary} |"
            for impl in registry.IMPLS
        ),
    ]


_BLOCKS: dict[str, Callable[[Results, str], list[str]]] = {
    "fault-matrix": _fault_matrix,
    "figures": _figures,
    "run": _run,
    "profiles": _profiles,
    "implementations": _implementations,
}


def render_block(results: Results, name: str) -> str:
    """The body of the block ``name`` (``fault-matrix``, ``figures:IMPL``) from ``results``."""
    kind, _, arg = name.partition(":")
    render = _BLOCKS.get(kind)
    if render is None:
        raise ValueError(f"no rendered block {kind!r}; known: {', '.join(_BLOCKS)}")
    return "\n\n" + "\n".join(render(results, arg)) + "\n\n"


def render_marked(text: str, results: Results) -> str:
    """``text`` with every marked block rendered again from ``results``."""

    def again(match: re.Match[str]) -> str:
        name = match.group("name")
        return f"<!-- {name}:start -->{render_block(results, name)}<!-- {name}:end -->"

    return MARKER.sub(again, text)


def write_marked(path: Path, results: Results) -> bool:
    """Re-render the marked blocks of ``path``; True if the file changed."""
    text = path.read_text()
    new = render_marked(text, results)
    if new != text:
        path.write_text(new)
    return new != text


def doc_files(root: Path) -> list[Path]:
    """Every file of ``DOC_GLOBS`` under ``root``; ``root`` itself if it is a file."""
    if root.is_file():
        return [root]
    return sorted({path for pattern in DOC_GLOBS for path in root.glob(pattern)})

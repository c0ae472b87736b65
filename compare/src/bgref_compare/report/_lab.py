"""The pitfall lab in the report: every approach tuned against its idiomatic versions.

One table per approach (its own path, then each variant the run measured):
throughput ratio, slow-work capacity, completion p99, peak memory and threads
above capacity, and what each fault lost. Below each table, every claim (the
tuning pays, a variant loses what its registry entry declares) with the verdict
of its rule in ``_verdicts`` and the figures that decided it. All of it from
``results.json`` alone (schema 4); the variants' descriptions come from the
registry, as the rest of the report's do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from bgref_compare import registry
from bgref_compare._results import Results
from bgref_compare.scenarios._faultmatrix import FAULTS, FaultRow, rows_of

from ._figures import Figures, fmt, ms
from ._findings import _lab_impl, tutorial_claims
from ._markdown import _capacity_cell
from ._verdicts import advice_is_better, fault_claim

__all__ = ["lab_fault_lines", "lab_section", "tuning_advice"]

DEFAULT = "default"


def _label(fault: str) -> str:
    return FAULTS.get(fault, fault)


def _variant_rows(results: Results) -> list[FaultRow]:
    return [
        r for r in rows_of(results.get("faults") or []) if r.get("variant", DEFAULT) != DEFAULT
    ]


def _approaches(results: Results) -> list[str]:
    """Implementations with a variant measured (a run or a fault row), in the registry's order."""
    found = {r["impl"] for r in results["runs"] if r["variant"] != DEFAULT}
    found |= {r["impl"] for r in _variant_rows(results)}
    return sorted(found, key=registry.order)


def _variants(results: Results, impl: str) -> list[str]:
    """The variants of ``impl`` measured in this run, in the order they were measured."""
    names = [r["variant"] for r in results["runs"] if r["impl"] == impl]
    names += [cast(str, r.get("variant")) for r in _variant_rows(results) if r["impl"] == impl]
    return [n for n in dict.fromkeys(names) if n != DEFAULT]


def _describe(impl: str, variant: str) -> str:
    if variant == DEFAULT:
        return "as tuned here (`/send-message/`)"
    try:
        return registry.get(impl).variant(variant).description
    except KeyError:  # a run from an older registry
        return ""


def _fault_rows(results: Results, impl: str, variant: str) -> list[FaultRow]:
    rows = rows_of(results.get("faults") or [])
    return [r for r in rows if r["impl"] == impl and r.get("variant", DEFAULT) == variant]


def _compared_faults(results: Results, impl: str) -> list[str]:
    """The faults any variant of ``impl`` went through: the tuned row shows its own for them."""
    return list(dict.fromkeys(r["fault"] for r in _variant_rows(results) if r["impl"] == impl))


def _losses(results: Results, impl: str, variant: str) -> str:
    wanted = _compared_faults(results, impl)
    rows = [r for r in _fault_rows(results, impl, variant) if r["fault"] in wanted]
    if not rows:
        return "–"
    return "; ".join(
        f"{_label(r['fault'])}: lost {fmt(r['lost'])} of {fmt(r['acknowledged'])}"
        + (f", {fmt(r['duplicated'])} twice" if r["duplicated"] else "")
        for r in rows
    )


def _above(fig: Figures, key: str) -> Any:
    return fig.above.get(key) if fig.above else None


def _table_row(results: Results, impl: str, variant: str) -> list[str]:
    fig = Figures.of(results, impl, variant)
    return [
        f"`{variant}`" if variant != DEFAULT else "tuned",
        _describe(impl, variant),
        fmt(fig.ratio, 2),
        _capacity_cell(fig, short=True),
        ms(fig.completion(fig.below, "p99")),
        ms(fig.completion(fig.above, "p99")),
        fmt(_above(fig, "peak_rss_mb")),
        fmt(_above(fig, "peak_threads")),
        _losses(results, impl, variant),
    ]


_HEADERS = [
    "variant",
    "what it is",
    "throughput ratio",
    "slow-work capacity /s",
    "completion p99, below",
    "completion p99, above",
    "peak RSS MB, above",
    "peak threads, above",
    "what the faults lost",
]


def _claims(results: Results, impl: str) -> list[str]:
    tuned = Figures.of(results, impl)
    lines: list[str] = []
    for variant in _variants(results, impl):
        fig = Figures.of(results, impl, variant)
        if fig.send is not None or fig.below is not None or fig.above is not None:
            verdict = advice_is_better(tuned, fig)
            lines.append(
                f"- The tuning pays over `{variant}` (a higher throughput ratio and slow-work "
                f"capacity): **{verdict.outcome or 'not measured'}**. Decided by: "
                f"{verdict.basis}."
            )
        for row in _fault_rows(results, impl, variant):
            claim, verdict = fault_claim(cast(dict[str, Any], row), _label(row["fault"]))
            lines.append(
                f"- {claim} **{verdict.outcome or 'not measured'}**. Decided by: {verdict.basis}."
            )
    return lines


def lab_section(results: Results) -> list[str]:
    """The pitfall lab: one table per approach, its claims, and the tutorial's claims."""
    approaches = _approaches(results)
    if not approaches:
        return []
    share = results["meta"].get("params", {}).get("variant_share", 1.0)
    sliced = f"each variant got {share:.0%} of a slice; " if share != 1.0 else ""
    lines = [
        "## 3. Pitfall lab: tuned against idiomatic",
        "",
        "Each approach as tuned here against the ways its docs and tutorials write it "
        "(the registry's variants, each served by the same package), measured in scenarios 1 "
        "and 2 and put through the faults that apply to it. The ratio is paired with the "
        f"baseline slices of the same run; {sliced}a capacity marked (probed) was not "
        "validated (the shorter profiles only probe a variant's); a variant runs at the "
        "loads that show its difference (– where it did not run). Peak RSS and threads are "
        "the whole stack's, at 150% of the variant's own capacity.",
        "",
    ]
    tutorial = _lab_impl(results, "def-task")
    for impl in approaches:
        rows = [_table_row(results, impl, v) for v in (DEFAULT, *_variants(results, impl))]
        lines += [f"### `{impl}`", "", *_markdown(rows), *_claims(results, impl), ""]
        if impl == tutorial:
            lines += ["The tutorial's claims:", ""]
            for claim, verdict, evidence in tutorial_claims(results):
                lines += [f"- {claim} {verdict}. {evidence}", ""]
    return lines


def _markdown(rows: Sequence[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return [*lines, ""]


def _figures_text(results: Results, impl: str, variant: str) -> str:
    fig = Figures.of(results, impl, variant)
    # A capacity that failed its validation is not quoted, here as in the tables.
    parts = [f"ratio {fmt(fig.ratio, 2)}", f"capacity {_capacity_cell(fig, short=True)}"]
    threads, rss = _above(fig, "peak_threads"), _above(fig, "peak_rss_mb")
    if threads is not None or rss is not None:
        parts.append(f"{fmt(threads)} threads and {fmt(rss)} MB at peak above capacity")
    losses = _losses(results, impl, variant)
    if losses != "–":
        parts.append(losses)
    return ", ".join(parts)


def tuning_advice(results: Results) -> list[str]:
    """Per approach: what its idiomatic versions cost, and what the tuning buys, in figures."""
    out = []
    delay = results["meta"].get("params", {}).get("delay_ms")
    for impl in _approaches(results):
        variants = "; ".join(
            f"`{v}`: {_figures_text(results, impl, v)}" for v in _variants(results, impl)
        )
        out.append(
            f"**`{impl}` as its docs and tutorials write it, and as tuned here.** {variants}. "
            f"As tuned here: {_figures_text(results, impl, DEFAULT)} (capacities in messages/s "
            f"with {fmt(delay)} ms of work; section 3 has the verdicts)."
        )
    return out


def lab_fault_lines(results: Results) -> list[str]:
    """The variants' fault rows: declared against measured, beside their approach's own row."""
    rows = _variant_rows(results)
    if not rows:
        return []
    table = []
    for impl in sorted({r["impl"] for r in rows}, key=registry.order):
        for fault in _compared_faults(results, impl):
            own = [r for r in _fault_rows(results, impl, DEFAULT) if r["fault"] == fault]
            mine = [r for r in rows if r["impl"] == impl and r["fault"] == fault]
            for row in [*own, *mine]:
                data = cast(dict[str, Any], row)
                variant = data.get("variant", DEFAULT)
                _, verdict = fault_claim(data, _label(fault))
                table.append(
                    [
                        f"`{impl}`",
                        "tuned" if variant == DEFAULT else f"`{variant}`",
                        _label(fault),
                        fmt(data.get("delay_ms")) if data.get("delay_ms") else "–",
                        (data.get("declared") or "nothing") if variant != DEFAULT else "–",
                        f"lost {fmt(data.get('lost'))} of {fmt(data.get('acknowledged'))}, "
                        f"dup {fmt(data.get('duplicated'))}, err {fmt(data.get('errors'))}",
                        f"**{verdict.outcome}**" if variant != DEFAULT else "",
                    ]
                )
    headers = ["implementation", "variant", "fault", "work ms", "declared", "measured", "verdict"]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in table]
    return [
        "### The variants under their faults",
        "",
        "Each variant's burst went to its own route, with the fault of the matrix; "
        "a variant's stop runs with work longer than the shortest grace a variant sets, so "
        "that work is pending when it ends (the work ms column; – is the matrix's). Declared "
        "is what the registry says the variant loses; the tuned row (the approach's own, "
        "from the matrix above) is beside it.",
        "",
        *lines,
        "",
    ]

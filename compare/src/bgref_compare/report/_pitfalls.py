"""The report's section 3 for results before schema 4: the pitfall lab as one table of one
implementation's variants, and the tutorial's claims below it. Newer results get ``_lab``'s
section instead; this one keeps the older reports (the published one among them) rendering as
they did.
"""

from __future__ import annotations

from bgref_compare import registry
from bgref_compare._results import Results

from ._figures import Figures, fmt, ms
from ._findings import tutorial_claims
from ._markdown import _table

__all__: list[str] = []


# The default variant is the implementation itself; the others describe
# themselves in the registry.
_DEFAULT_DESCRIPTION = "the implementation itself (`/send-message/`)"


def _describe(impl_id: str, variant: str) -> str:
    if variant == "default":
        return _DEFAULT_DESCRIPTION
    try:
        return registry.get(impl_id).variant(variant).description
    except KeyError:  # a run from an older registry
        return ""


def _pitfalls(results: Results) -> list[str]:
    lab = [r for r in results["runs"] if r["variant"] != "default"]
    if not lab:
        return []
    rows = []
    # In the order the runs were made, which is the registry's.
    owner = lab[0]["impl"]
    for variant in ("default", *dict.fromkeys(r["variant"] for r in lab)):
        fig = Figures.of(results, owner, variant)
        rows.append(
            [
                f"`{variant}`",
                _describe(owner, variant),
                fmt(fig.ratio, 2),
                fmt(fig.capacity),
                ms(fig.latency(fig.below, "p50")),
                ms(fig.latency(fig.above, "p99")),
                ms(fig.completion(fig.below, "p99")),
            ]
        )
    lines = [
        "## 3. Pitfall lab: the tutorial's claims",
        "",
        f"Variants of the `{owner}` implementation, measured in scenarios 1 and 2.",
        "",
        *_table(
            [
                "variant",
                "what it is",
                "throughput ratio",
                "slow-work capacity /s",
                "response p50, below",
                "response p99, above",
                "completion p99, below",
            ],
            rows,
        ),
    ]
    for claim, verdict, evidence in tutorial_claims(results):
        lines += [f"- {claim} {verdict}. {evidence}", ""]
    return lines

"""A new implementation is one registry entry: the smoke comparison and its report take it.

``docs/adding-an-implementation.md`` says that nothing but the package and its
registry entry names an implementation. This adds one under a new id to a copy
of the registry (an existing package, so that nothing needs installing) and
runs the smoke comparison and the report over it alone, so that a table keyed by
id anywhere in the harness fails here instead of in a contributor's hands.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bgref_compare import registry
from bgref_compare._compare import run_comparison
from bgref_compare._profile import PROFILES
from bgref_compare.scenarios import applicable_faults

NEW_ID = "throwaway"
MECHANISM = "A throwaway entry: its sentence must reach the report from the registry alone."


@pytest.fixture
def new_impl(monkeypatch: pytest.MonkeyPatch) -> registry.Impl:
    """The registry with one more entry: the cheapest one (one process, no broker), renamed."""
    base = registry.simplest()
    impl = dataclasses.replace(
        base, id=NEW_ID, mechanism=MECHANISM, ratio_target=0.01, variants=()
    )
    monkeypatch.setattr(registry, "IMPLS", (*registry.IMPLS, impl))
    monkeypatch.setattr(registry, "IMPL_IDS", (*registry.IMPL_IDS, NEW_ID))
    return impl


@pytest.mark.slow
def test_the_smoke_comparison_and_its_report_take_a_new_implementation(
    new_impl: registry.Impl, tmp_path: Path
) -> None:
    results = run_comparison(PROFILES["smoke"], [NEW_ID], out_dir=tmp_path, plain=True)

    assert results["failures"] == [], results["failures"]
    assert set(results["ratios"]) == {NEW_ID}
    assert results["ratios"][NEW_ID] is not None
    scenarios = {run["scenario"] for run in results["runs"] if run["impl"] == NEW_ID}
    assert {"throughput", "slow-work", "soak"} <= scenarios, scenarios
    faults = [row for row in results["faults"] if row["impl"] == NEW_ID]
    # The smoke's faults that apply to the implementation itself (a variant's, such
    # as the pitfall lab's "gc", need a variant that declares it).
    wanted = applicable_faults(new_impl, PROFILES["smoke"].fault_names)
    assert wanted
    assert {row["fault"] for row in faults} == set(wanted)
    # The report: its tables and its prose, from results.json and the registry entry.
    assert json.loads((tmp_path / "results.json").read_text())["ratios"] == results["ratios"]
    report = (tmp_path / "report.md").read_text()
    assert MECHANISM in report
    assert f"| fault | {NEW_ID} |" in report
    assert not [other for other in registry.IMPL_IDS[:-1] if f"`{other}`" in report]

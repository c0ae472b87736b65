"""The profiles' lengths, and the command line that picks them (compare/README.md's table
of them is a rendered block: test_published keeps it current)."""

from __future__ import annotations

import pytest

from bgref_compare.__main__ import main
from bgref_compare._compare import SCENARIOS
from bgref_compare._profile import PROFILES
from bgref_compare.registry import IMPLS
from bgref_compare.report._profiletable import estimate_seconds


def test_the_default_and_quick_profiles_keep_their_budgets() -> None:
    # The estimate tracks the real length on an idle 2-core machine (compare/README.md
    # gives both). The default profile runs every implementation and scenario: 12
    # minutes held for four implementations, and it may take at most two and a half
    # minutes per implementation as more join (soak and curves stay at one of each
    # kind). The quick one runs one implementation of each model, under five minutes.
    assert estimate_seconds(PROFILES["default"], SCENARIOS) <= 150 * len(IMPLS)
    assert estimate_seconds(PROFILES["quick"], SCENARIOS) < 5 * 60


def test_write_docs_only_with_the_reference_profile(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["compare", "--quick", "--write-docs"])
    assert "--write-docs publishes the reference run" in capsys.readouterr().err

"""The profiles as the README states them, and the command line that picks them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgref_compare.__main__ import main
from bgref_compare._compare import SCENARIOS
from bgref_compare._profile import PROFILES
from bgref_compare._profiletable import (
    PROFILES_END,
    PROFILES_START,
    estimate_seconds,
    profile_table,
)

_README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_states_the_profiles_the_code_runs() -> None:
    text = _README.read_text()
    section = text.split(PROFILES_START, 1)[1].split(PROFILES_END, 1)[0]
    assert section.strip().splitlines() == profile_table(SCENARIOS), (
        "compare/README.md's profile table is stale: paste `python -m bgref_compare profiles`"
    )


def test_the_default_profile_leaves_room_in_twelve_minutes() -> None:
    # The estimate tracks the real length on an idle 2-core machine (compare/README.md
    # gives both); the default profile must leave room for two more scenarios.
    assert estimate_seconds(PROFILES["default"], SCENARIOS) <= 10.5 * 60
    assert estimate_seconds(PROFILES["quick"], SCENARIOS) < 5 * 60


def test_write_docs_only_with_the_reference_profile(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["compare", "--quick", "--write-docs"])
    assert "--write-docs publishes the reference run" in capsys.readouterr().err

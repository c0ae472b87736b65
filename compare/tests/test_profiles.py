"""The profiles' lengths, and the command line that picks them (compare/README.md's table
of them is a rendered block: test_published keeps it current)."""

from __future__ import annotations

import pytest

from bgref_compare.__main__ import main
from bgref_compare._compare import SCENARIOS
from bgref_compare._profile import PROFILES
from bgref_compare.report._profiletable import estimate_seconds


def test_the_default_profile_leaves_room_in_twelve_minutes() -> None:
    # The estimate tracks the real length on an idle 2-core machine (compare/README.md
    # gives both); the default profile, curves included, must stay within 12 minutes.
    assert estimate_seconds(PROFILES["default"], SCENARIOS) <= 12 * 60
    assert estimate_seconds(PROFILES["quick"], SCENARIOS) < 5 * 60


def test_write_docs_only_with_the_reference_profile(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["compare", "--quick", "--write-docs"])
    assert "--write-docs publishes the reference run" in capsys.readouterr().err

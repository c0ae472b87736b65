"""Fixtures shared by the linelog tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the caller's LOG_* variables from changing what a test sees."""
    for name in ("LOG_PATH", "LOG_FSYNC", "LOG_DELAY_MS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    """A log file path in a fresh folder; the file does not exist yet."""
    return tmp_path / "log.txt"

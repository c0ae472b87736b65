"""Fixtures shared by the linelog tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _fsync import FsyncCounter


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the caller's LOG_* variables from changing what a test sees."""
    for name in ("LOG_PATH", "LOG_FSYNC", "LOG_DELAY_MS", "LOG_RETRY_SECONDS", "LOG_RETRY_LINES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    """A log file path in a fresh folder; the file does not exist yet."""
    return tmp_path / "log.txt"


@pytest.fixture
def fsync_counter(monkeypatch: pytest.MonkeyPatch) -> FsyncCounter:
    """Count the fsync calls that the writer makes."""
    counter = FsyncCounter(seconds=0.005)
    monkeypatch.setattr(os, "fsync", counter)
    return counter

"""Settings from arguments and the environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bgref_linelog import LogWriter


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    writer = LogWriter()
    assert writer.path == str(tmp_path / "log.txt")
    assert writer.fsync is False
    assert writer.delay_ms == 0.0
    assert writer.reopen_check == 0.01
    assert repr(writer) == f"LogWriter({str(tmp_path / 'log.txt')!r}, fsync=False, delay_ms=0)"


def test_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOG_PATH", str(tmp_path / "env.log"))
    monkeypatch.setenv("LOG_FSYNC", " On ")
    monkeypatch.setenv("LOG_DELAY_MS", "2.5")
    writer = LogWriter()
    assert writer.path == str(tmp_path / "env.log")
    assert writer.fsync is True
    assert writer.delay_ms == 2.5


def test_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOG_PATH", str(tmp_path / "env.log"))
    monkeypatch.setenv("LOG_FSYNC", "1")
    monkeypatch.setenv("LOG_DELAY_MS", "100")
    writer = LogWriter(tmp_path / "arg.log", fsync=False, delay_ms=0)
    assert (writer.path, writer.fsync, writer.delay_ms) == (str(tmp_path / "arg.log"), False, 0.0)


def test_relative_path_is_fixed_at_construction(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    writer = LogWriter("sub.log")
    monkeypatch.chdir(os.sep)
    assert writer.path == str(tmp_path / "sub.log")


@pytest.mark.parametrize("value", ["", "0", "false", "No", "OFF"])
def test_fsync_off_values(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LOG_FSYNC", value)
    assert LogWriter().fsync is False


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_fsync_on_values(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LOG_FSYNC", value)
    assert LogWriter().fsync is True


def test_invalid_fsync_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FSYNC", "maybe")
    with pytest.raises(ValueError, match="LOG_FSYNC"):
        LogWriter()


def test_invalid_delay_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_DELAY_MS", "soon")
    with pytest.raises(ValueError, match="LOG_DELAY_MS"):
        LogWriter()


@pytest.mark.parametrize("delay_ms", [-1.0, float("nan"), float("inf")])
def test_invalid_delay_argument(delay_ms: float) -> None:
    with pytest.raises(ValueError, match="delay_ms"):
        LogWriter(delay_ms=delay_ms)


@pytest.mark.parametrize("seconds", [-0.5, float("nan")])
def test_invalid_reopen_check(seconds: float) -> None:
    with pytest.raises(ValueError, match="reopen_check"):
        LogWriter(reopen_check=seconds)

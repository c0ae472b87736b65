"""The retry's bounds, from arguments and the environment."""

from __future__ import annotations

import pytest

from bgref_linelog import LogWriter


def test_defaults_ride_out_a_few_seconds() -> None:
    writer = LogWriter()
    assert (writer.retry_seconds, writer.retry_lines) == (10.0, 10_000)
    assert (writer.held, writer.lost) == (0, 0)


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_RETRY_SECONDS", " 2.5 ")
    monkeypatch.setenv("LOG_RETRY_LINES", "50")
    writer = LogWriter()
    assert (writer.retry_seconds, writer.retry_lines) == (2.5, 50)


def test_empty_environment_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_RETRY_SECONDS", " ")
    monkeypatch.setenv("LOG_RETRY_LINES", "")
    writer = LogWriter()
    assert (writer.retry_seconds, writer.retry_lines) == (10.0, 10_000)


def test_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_RETRY_SECONDS", "2.5")
    monkeypatch.setenv("LOG_RETRY_LINES", "50")
    writer = LogWriter(retry_seconds=0, retry_lines=7)
    assert (writer.retry_seconds, writer.retry_lines) == (0, 7)


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("LOG_RETRY_SECONDS", "soon", "LOG_RETRY_SECONDS must be a number of seconds, not 'soon'"),
        ("LOG_RETRY_SECONDS", "-1", "retry_seconds must be a finite number >= 0, not -1.0"),
        ("LOG_RETRY_SECONDS", "inf", "retry_seconds must be a finite number >= 0, not inf"),
        ("LOG_RETRY_LINES", "1.5", "LOG_RETRY_LINES must be a whole number of lines, not '1.5'"),
        ("LOG_RETRY_LINES", "-3", "retry_lines must be a whole number >= 0, not -3"),
    ],
)
def test_bad_environment(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, error: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"^{error}$"):
        LogWriter()


@pytest.mark.parametrize("lines", [True, 2.0, -1])
def test_bad_line_bound_argument(lines: object) -> None:
    with pytest.raises(ValueError, match="retry_lines must be a whole number >= 0"):
        LogWriter(retry_lines=lines)  # type: ignore[arg-type]


@pytest.mark.parametrize("seconds", [float("nan"), -0.5])
def test_bad_time_bound_argument(seconds: float) -> None:
    with pytest.raises(ValueError, match="retry_seconds must be a finite number >= 0"):
        LogWriter(retry_seconds=seconds)

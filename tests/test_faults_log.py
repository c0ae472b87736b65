"""Fault 5: the log turns unwritable, then writable again; requests are answered throughout."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bgref_compare import Impl, Stack, wait_until
from bgref_compare.faults import (
    Answer,
    Burst,
    Ledger,
    burst_messages,
    failures_naming,
    settle,
    written,
)

from ._faults import describe
from ._helpers import http_client, token

pytestmark = pytest.mark.faults

BATCH = 20
# How long failed writes may take to show in the output, and retried ones to land.
NOTICED = 20.0
SETTLE = 60.0
TRACEBACK = "Traceback (most recent call last)"


def _make_directory(log: Path) -> tuple[Path, Callable[[], None]]:
    """The log path becomes a directory; the old log file is kept aside."""
    aside = log.with_name(f"{log.name}.{token()[:8]}")
    log.rename(aside)
    log.mkdir()
    return aside, log.rmdir


def _remove_folder(log: Path) -> tuple[Path, Callable[[], None]]:
    """The log's folder disappears (moved away with the old log in it)."""
    folder = log.parent
    gone = folder.with_name(f"{folder.name}.{token()[:8]}")
    folder.rename(gone)
    return gone / log.name, folder.mkdir


BREAKAGES = {"the path is a directory": _make_directory, "the folder is gone": _remove_folder}


def _answered(stack: Stack, label: str) -> list[Answer]:
    answers = Burst(stack.base_url, burst_messages(label, BATCH), concurrency=4).start().join()
    statuses = Counter(answer.status for answer in answers)
    assert statuses == {200: BATCH}, f"{label}: {dict(statuses)}\n{describe(stack)}"
    return answers


def _health(stack: Stack) -> int:
    with http_client(stack.base_url) as client:
        response = client.get("/healthz", timeout=10)
    if response.status_code == 503:
        assert response.json()["status"] == "unavailable", response.text
    return response.status_code


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_an_unwritable_log_is_reported_and_survived(
    impl: Impl, fault_stack: Stack, breakage: str, request: pytest.FixtureRequest
) -> None:
    """Writes fail with a traceback naming the path; a broker or linelog's retry writes them."""
    stack = fault_stack
    log = stack.log_path
    before = _answered(stack, "log-before")
    assert wait_until(lambda: {a.message for a in before} <= set(written(log)), NOTICED)
    failures = failures_naming(stack, log)
    tracebacks = stack.output().count(TRACEBACK)

    kept, repair = BREAKAGES[breakage](log)
    try:
        during = _answered(stack, "log-during")
        # Each write fails, but for one that lands in the old file in the instant
        # before the writer looks at the path again. A writer that holds lines
        # for a retry reports the failure once, not once per line.
        sent = {answer.message for answer in during}
        expected = 1 if impl.holds_writes else BATCH
        assert wait_until(
            lambda: (
                failures_naming(stack, log) - failures + len(sent.intersection(written(kept)))
                >= expected
            ),
            NOTICED,
        ), f"failed writes not reported with the path {log}\n{describe(stack)}"
        if impl.holds_writes:
            # Held lines make /healthz say 503, so that a load balancer stops sending.
            assert wait_until(lambda: _health(stack) == 503, NOTICED), describe(stack)
    finally:
        repair()
    after = _answered(stack, "log-after")
    if impl.holds_writes:
        assert wait_until(lambda: _health(stack) == 200, NOTICED), describe(stack)

    answers = [*before, *during, *after]
    if impl.retries_writes:
        ledger = settle(stack, answers, SETTLE, paths=[kept])
    else:
        # The failed writes are gone for good; once the later messages are in,
        # the log holds everything it will.
        assert wait_until(lambda: {a.message for a in after} <= set(written(log)), NOTICED)
        ledger = Ledger.of(answers, written(log, kept))
    ledger.record(request.node.user_properties, f"unwritable log: {breakage}")
    reported = failures_naming(stack, log) - failures
    request.node.user_properties.append(("failures_logged", reported))

    assert stack.output().count(TRACEBACK) > tracebacks, "failures logged without a traceback"
    ledger.check_consistent()
    lost = {answer.message for answer in ledger.lost}
    assert not lost & {a.message for a in [*before, *after]}, "lost while the log was writable"
    if impl.retries_writes:
        ledger.check_nothing_lost()
    else:
        # Dropped, but never silently: exactly one reported failure per lost message.
        assert lost, f"nothing lost while the log was unwritable ({ledger})"
        assert reported == len(lost), f"{len(lost)} lost, {reported} failures reported"

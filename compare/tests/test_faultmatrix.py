"""The fault matrix: accounting a burst, rendering it, and putting it into the docs."""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bgref_compare._compare import assemble
from bgref_compare.registry import get
from bgref_compare.report._report import render_report
from bgref_compare.scenarios._faultload import Bystander
from bgref_compare.scenarios._faultmatrix import (
    DOCS_END,
    DOCS_START,
    FaultRow,
    fault_row,
    matrix_lines,
    replace_marked,
)
from bgref_compare.scenarios._faults import applicable_faults
from bgref_compare.scenarios._soak import memory_growth
from bgref_compare.stack._polling import wait_until


def _row(impl: str, fault: str, lost: int = 0) -> FaultRow:
    return {
        "impl": impl,
        "fault": fault,
        "acknowledged": 10,
        "written": 10 - lost,
        "lost": lost,
        "duplicated": 0,
        "errors": 2,
        "slowest_ms": 1234.5,
    }


def test_a_burst_is_accounted_against_the_log() -> None:
    # 0 and 1 acknowledged and written (1 twice), 2 acknowledged and lost,
    # 3 refused, 4 unanswered but written anyway.
    statuses = [200, 200, 200, 503, 0]
    elapsed = [5.0, 7.5, 3.0, 2900.0, None]
    row = fault_row("celery", "web-crash", statuses, elapsed, Counter({0: 1, 1: 2, 4: 1}))
    assert row == {
        "impl": "celery",
        "fault": "web-crash",
        "acknowledged": 3,
        "written": 3,
        "lost": 1,
        "duplicated": 1,
        "errors": 2,
        "slowest_ms": 2900.0,
    }


def test_nothing_answered_has_no_slowest_answer() -> None:
    row = fault_row("fastapi", "web-crash", [0, 0], [None, float("nan")], Counter())
    assert row["slowest_ms"] is None
    assert row["errors"] == 2


def test_the_matrix_puts_faults_down_and_implementations_across() -> None:
    rows = [_row("celery", "worker-crash"), _row("fastapi", "web-crash", lost=3)]
    rows.append(_row("celery", "web-crash"))
    lines = matrix_lines(rows)
    assert lines[0] == "| fault | fastapi | celery |"
    assert lines[2].startswith("| web SIGKILL | 7/10 written, **lost 3**, dup 0, err 2, ")
    assert "slowest 1.2 s" in lines[2]
    # Celery's row, and n/a where the fault does not apply (FastAPI has no worker).
    assert lines[3] == (
        "| worker SIGKILL | n/a | 10/10 written, lost 0, dup 0, err 2, slowest 1.2 s |"
    )
    assert matrix_lines([]) == []


def test_the_docs_section_is_replaced_between_the_markers() -> None:
    text = f"intro\n{DOCS_START}\nold text\n{DOCS_END}\nafter\n"
    new = replace_marked(text, ["| a |", "|---|"])
    assert new == f"intro\n{DOCS_START}\n| a |\n|---|\n{DOCS_END}\nafter\n"
    assert replace_marked(new, ["x"]) == f"intro\n{DOCS_START}\nx\n{DOCS_END}\nafter\n"
    with pytest.raises(ValueError, match="fault-matrix"):
        replace_marked("no markers", ["x"])


def test_faults_follow_the_registry() -> None:
    assert applicable_faults(get("fastapi")) == [
        "unwritable-log",
        "unwritable-log-long",
        "web-crash",
        "graceful-stop",
    ]
    assert "recycling" in applicable_faults(get("flask"))
    celery = applicable_faults(get("celery"))
    for fault in ("broker-down", "broker-frozen", "worker-crash"):
        assert fault in celery
    assert "recycling" not in celery
    # Celery's worker runs its tasks in threads; RQ's pool runs them in processes.
    assert "pool-child-crash" not in celery
    assert "pool-child-crash" in applicable_faults(get("rq"))
    assert applicable_faults(get("celery"), ("web-crash", "recycling")) == ["web-crash"]


def test_fault_rows_reach_results_and_report() -> None:
    results = assemble({}, {}, [], [], [_row("starlette", "graceful-stop")])
    assert results["faults"][0]["fault"] == "graceful-stop"
    text = render_report(results, charts=[])
    assert "## Faults" in text
    assert "| web SIGTERM | 10/10 written" in text


def test_memory_growth() -> None:
    assert memory_growth(100.0, 110.0) == pytest.approx(0.1)
    assert memory_growth(100.0, 90.0) == pytest.approx(-0.1)
    assert memory_growth(0.0, 10.0) is None


def test_a_process_that_died_on_its_own_is_named() -> None:
    row = _row("celery", "broker-down", lost=8)
    row["exited"] = ["worker"]
    lines = matrix_lines([row])
    assert lines[2].endswith("**lost 8**, dup 0, err 2, slowest 1.2 s, **worker exited** |")
    text = render_report(assemble({}, {}, [], [], [row]), charts=[])
    assert "| 1,234.50 | worker |" in text


def test_a_broker_fault_shows_how_long_the_other_endpoints_waited() -> None:
    row = _row("celery", "broker-frozen")
    row["bystander_ms"] = 4.2
    lines = matrix_lines([row])
    assert lines[2].endswith("slowest 1.2 s; baseline/healthz 4.2 ms |")
    assert "baseline/healthz" in lines[-1]
    assert "baseline/healthz" not in matrix_lines([_row("celery", "web-crash")])[2]


def test_the_bystander_sees_a_server_that_stalls() -> None:
    stall = 0.3

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            if self.path == "/healthz":
                time.sleep(stall)  # the event loop held up by its broker
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        bystander = Bystander(server.server_address[1], timeout=5.0).start()
        assert wait_until(lambda: bystander.slowest is not None, 5.0)
        slowest = bystander.stop()
        server.shutdown()
    assert slowest is not None
    assert slowest >= stall * 1000

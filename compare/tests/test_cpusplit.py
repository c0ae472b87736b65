"""The CPU split's table and what the report makes of it; the throughput's sustained rate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _runs import percentiles, run

from bgref_compare import wait_until
from bgref_compare.loadgen._bench import Bench, CpuPlan
from bgref_compare.loadgen._usage import ServerUsage, parse_commandstats
from bgref_compare.registry import IMPLS
from bgref_compare.report._cpu import behind_sentence, cpu_sentence
from bgref_compare.scenarios._cpusplit import (
    ProcessCpu,
    SliceCpu,
    combine,
    per_request,
    split_lines,
)
from bgref_compare.scenarios._record import _merge_slices


def test_table_gives_each_process_its_share_and_cost_per_request() -> None:
    piece = SliceCpu(
        "/send-message/",
        requests=10_000,
        wall_s=5.0,
        processes=(
            ProcessCpu("web", 1, 2.5),
            ProcessCpu("worker child", 2, 1.0),
        ),
        redis_calls={"lpush": 500, "blmove": 499},
    )
    lines = split_lines(IMPLS[0], [piece])

    assert "10,000 requests, 2,000/s" in lines[2]
    web, children, total, redis = lines[3:7]
    assert web.split() == ["web", "2.50", "s", "50.0%", "of", "a", "CPU", "250.0", "µs/request"]
    assert children.startswith("  worker child x2")
    assert "100.0 µs/request" in children
    assert total.split()[:2] == ["all", "3.50"]
    assert "350.0 µs/request" in total
    assert redis == "  redis: lpush 500, blmove 499"


def test_a_slice_without_requests_costs_nothing_per_request() -> None:
    piece = SliceCpu("/baseline/", requests=0, wall_s=1.0, processes=(), redis_calls={})
    assert SliceCpu("/baseline/", 0, 0.0, (), {}).rps == 0.0
    assert split_lines(IMPLS[0], [piece])[-1].split()[-2] == "0.0"


def test_per_request_names_each_process_and_the_total_largest_first() -> None:
    piece = SliceCpu(
        "/send-message/",
        requests=1_000,
        wall_s=1.0,
        processes=(ProcessCpu("web", 1, 0.2), ProcessCpu("worker child", 2, 0.5)),
        redis_calls={},
    )
    assert per_request(piece) == {"worker child x2": 500.0, "web": 200.0, "all": 700.0}
    assert per_request(SliceCpu("/baseline/", 0, 1.0, (), {})) == {}


def test_the_report_says_where_a_send_messages_cpu_went() -> None:
    cpu = {
        "seconds": 4.0,
        "send-message": {
            "rps": 300.0,
            "us": {"worker child x2": 2_463.0, "redis": 534.0, "web": 385.0, "all": 3_382.0},
            "redis_per_request": {"hset": 14.0, "expire": 13.0},
        },
        "baseline": {"rps": 7_800.0, "us": {"web": 126.0, "all": 126.0}, "redis_per_request": {}},
    }
    sentence = cpu_sentence(run("queue", "default", "throughput", cpu_us=cpu))
    assert "send-message 3,382 µs (worker child x2 2,463 µs, redis 534 µs, web 385 µs)" in sentence
    assert "baseline 126 µs (web 126 µs)" in sentence
    assert "Redis ran 14.0 HSET, 13.0 EXPIRE per message." in sentence
    # Results from before the CPU slices say nothing.
    assert cpu_sentence(run("queue", "default", "throughput")) == ""


def test_a_stack_whose_workers_fall_behind_is_named_with_what_it_sustains() -> None:
    behind = run("queue", "default", "throughput", rps=62.0, answered_rps=624.0, drain_s=6.02)
    assert "its web answered 624 requests/s" in behind_sentence(behind)
    assert "the stack sustains 62/s" in behind_sentence(behind)
    # Within 10% of each other (the log's own catching up), nothing to say.
    kept_up = run("loop", "default", "throughput", rps=5_000.0, answered_rps=5_050.0)
    assert behind_sentence(kept_up) == ""


def test_a_writing_paths_rate_counts_the_drain_after_each_slice() -> None:
    def piece(ok: int, drain: float) -> dict[str, object]:
        return {
            "requests": ok, "ok": ok, "errors": 0, "rejected": 0, "failed": 0, "lost": 0,
            "duplicated": 0, "unexpected": 0, "seconds": 1.0, "rps": float(ok),
            "statuses": {"200": ok}, "latency_ms": percentiles(1.0, 2.0),
            "completion_ms": percentiles(1.0, 2.0), "completed_rps": float(ok),
            "drain_s": drain, "loadgen_cpu": 0.1,
        }  # fmt: skip

    merged = _merge_slices([piece(1_000, 1.0), piece(1_000, 3.0)])
    assert merged["answered_rps"] == 1_000.0
    # 2,000 answers over 2 s of slices and 4 s of drain.
    assert merged["rps"] == round(2_000 / 6, 1)
    assert merged["drain_s"] == 3.0


def test_the_split_comes_from_the_ratios_own_slices_and_says_how_busy_the_cpu_was() -> None:
    slices = [
        {
            "path": "/send-message/",
            "seconds": 1.0,
            "drain_s": 0.25,
            "ok": 1_000,
            "server": {
                "cpu_s": [["web", 1, 0.5], ["worker child", 2, 0.25]],
                "redis_calls": {"lpush": 50},
            },
        },
        {
            "path": "/send-message/",
            "seconds": 1.0,
            "drain_s": 0.25,
            "ok": 3_000,
            "server": {"cpu_s": [["web", 1, 0.7], ["worker child", 2, 0.3]], "redis_calls": {}},
        },
    ]
    pieces = [SliceCpu.of_phase(result) for result in slices]
    assert None not in pieces
    whole = combine([p for p in pieces if p is not None])
    assert (whole.requests, whole.wall_s) == (4_000, 2.5)
    assert per_request(whole) == {"web": 300.0, "worker child x2": 137.5, "all": 437.5}
    assert whole.redis_calls == {"lpush": 50}
    assert whole.busy == 0.7  # 1.75 s of CPU in 2.5 s
    # A phase that watched nothing has no slice.
    assert SliceCpu.of_phase({"path": "/baseline/", "seconds": 1.0, "ok": 5}) is None

    cpu = {
        "seconds": 2.5,
        "over": "repetitions",
        "send-message": {"rps": 1_600.0, "seconds": 2.5, "busy": 0.7, "us": per_request(whole)},
        "baseline": {
            "rps": 7_000.0,
            "seconds": 2.0,
            "busy": 0.99,
            "us": {"web": 140.0, "all": 140.0},
        },
    }
    sentence = cpu_sentence(run("queue", "default", "throughput", cpu_us=cpu))
    assert "over the same slices as the ratio (2.5 s of send-message, drains included)" in sentence
    assert "busy 70% of the time on send-message, 99% on the baseline" in sentence


def test_the_load_generator_reads_each_watched_processs_cpu_over_a_phase() -> None:
    # A real process that burns CPU for a moment, read by the generator's own reader.
    burner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nend = time.process_time() + 0.3\n"
            "while time.process_time() < end: pass\ntime.sleep(30)",
        ]
    )
    try:
        usage = ServerUsage((("burner", burner.pid), ("gone", 2**22 + 7)), None)
        before = usage.read()
        assert wait_until(lambda: usage.since(before).cpu[0][2] >= 0.25, 20.0)
        spent = usage.since(before)
        # The process that does not exist is left out; no Redis, no calls.
        assert [name for name, _, _ in spent.cpu] == ["burner"]
        assert spent.redis_calls == {}
        assert spent.to_json()["cpu_s"][0][:2] == ["burner", 1]
    finally:
        burner.kill()
        burner.wait()
    assert parse_commandstats("# Commandstats\r\ncmdstat_lpush:calls=708,usec=9\r\n") == {
        "lpush": 708
    }


def test_every_process_of_a_multi_process_web_server_is_watched(tmp_path: Path) -> None:
    # gunicorn answers once its first process does and forks the others meanwhile:
    # a process missing from the list has its CPU unread (a run read one of two).
    impl = next(i for i in IMPLS if i.web_processes > 1 and not i.needs_redis)
    bench = Bench(tmp_path, CpuPlan.detect())
    with bench.stack(impl, delay_ms=0.0) as running:
        names = [name for name, _ in running.named_pids()]
    assert names.count(f"{impl.web.name} child") == impl.web_processes, names

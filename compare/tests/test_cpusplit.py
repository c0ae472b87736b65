"""The CPU split's table: per-request figures from the processes' CPU times."""

from __future__ import annotations

from bgref_compare.registry import IMPLS
from bgref_compare.scenarios._cpusplit import ProcessCpu, SliceCpu, split_lines


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

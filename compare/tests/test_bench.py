"""CPU placement and the memory sampler."""

from __future__ import annotations

import os

import pytest

from bgref_compare.loadgen._bench import CpuPlan
from bgref_compare.stack._memory import MemorySampler, tree_memory


def test_cpu_plan_splits_generator_and_servers() -> None:
    plan = CpuPlan.detect()
    if not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2:
        assert plan == CpuPlan(None, None)
        return
    assert plan.loadgen is not None
    assert plan.servers is not None
    assert plan.loadgen not in plan.servers
    assert plan.describe()["pinned"] is True


def test_memory_of_this_process() -> None:
    rss, pss = tree_memory([os.getpid()])
    assert rss > 1024 * 1024
    assert pss is None or 0 < pss <= rss * 2
    with MemorySampler(lambda: [os.getpid()], interval=0.01) as sampler:
        pass
    assert sampler.samples >= 2
    assert sampler.peak_rss_mb == pytest.approx(rss / 1024 / 1024, rel=0.5)


def test_a_vanished_process_counts_nothing() -> None:
    assert tree_memory([2**22 + 12345]) == (0, 0)

"""A fetch whose answer was lost: its messages claimed for live workers that never got them.

Redis runs Dramatiq's fetch script, which moves ids into the worker's set of
unacknowledged ids, and dies before the answer reaches the worker. The test
makes that state by hand, without a race: every worker process frozen, one
message queued per worker, the fetch script run under each worker's id (what
Redis did before it died), then Redis killed and restarted and the workers
thawed. Dramatiq gives a set back only when its worker falls silent for the
heartbeat timeout, set to a minute here so that it cannot be what brings them
back; ``bgref_dramatiq._consumer`` takes them back on reconnecting.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import dramatiq.brokers.redis
import httpx
import psutil
import pytest

from bgref_compare import RedisServer, Stack, broker_idle, redis_call, wait_until
from bgref_compare.faults import WORKERS, fault_env, redelivery_env, written
from bgref_compare.registry import get

IMPL = get("dramatiq")
# Far longer than the test: Dramatiq's own recovery of a silent worker's set.
HEARTBEAT_TIMEOUT_S = 60
# The worker's consumer restarts 3 s after a connection error (Dramatiq's own
# delay), then takes the messages back.
RECOVERY_S = 15.0
_DISPATCH = Path(dramatiq.brokers.redis.__file__).parent / "redis" / "dispatch.lua"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    (tmp_path / "redis").mkdir()
    with RedisServer(tmp_path / "redis", durable=True) as server:
        yield server


@pytest.fixture
def stack(tmp_path: Path, broker: RedisServer) -> Iterator[Stack]:
    (tmp_path / "stack").mkdir()
    env = {**fault_env(IMPL), **redelivery_env(IMPL, HEARTBEAT_TIMEOUT_S)}
    with Stack(IMPL, tmp_path / "stack", env=env, redis_url=broker.url) as running:
        yield running


def _worker_processes(stack: Stack) -> list[psutil.Process]:
    parents = [psutil.Process(proc.pid) for name, proc in stack.processes.items() if name != "web"]
    return [p for parent in parents for p in [parent, *parent.children(recursive=True)]]


def _worker_ids(url: str) -> list[str]:
    # Before the web has queued anything, only the workers' consumers have beaten.
    beats = redis_call(url, "ZRANGE", "dramatiq:__heartbeats__", "0", "-1")
    assert isinstance(beats, list)
    return [beat.decode() for beat in beats]


def _fetch_as(url: str, worker_id: str) -> list[object]:
    """Run Dramatiq's fetch of one message under ``worker_id``, answer discarded."""
    now_ms = str(int(time.time() * 1000))
    reply = redis_call(
        url,
        "EVAL",
        _DISPATCH.read_text(),
        "1",
        "dramatiq",
        *("fetch", now_ms, "default", worker_id, str(HEARTBEAT_TIMEOUT_S * 1000)),
        *("604800000", "0", "7999", "1"),
    )
    assert isinstance(reply, list)
    return reply


def test_messages_a_lost_fetch_claimed_are_written_once(stack: Stack, broker: RedisServer) -> None:
    # Each worker process's broker beats under its own id.
    assert wait_until(lambda: len(_worker_ids(broker.url)) >= WORKERS, 10, 0.1)
    workers = _worker_ids(broker.url)
    frozen = _worker_processes(stack)
    for process in frozen:
        process.send_signal(signal.SIGSTOP)
    try:
        messages = [f"lost fetch {i}" for i in range(len(workers))]
        with httpx.Client(base_url=stack.base_url, timeout=10) as client:
            for message in messages:
                answer = client.post("/send-message/", params={"message": message})
                assert answer.status_code == 200, answer.text
        for worker_id in workers:
            assert len(_fetch_as(broker.url, worker_id)) == 1
        broker.kill()
        broker.restart()
    finally:
        for process in frozen:
            process.send_signal(signal.SIGCONT)

    def done() -> bool:
        # Every message written and nothing left in Redis that could be written again.
        return len(written(stack.log_path)) >= len(messages) and broker_idle(broker.url, IMPL)

    assert wait_until(done, RECOVERY_S, 0.1), (
        f"written {written(stack.log_path)} of {messages}\n{stack.output()}"
    )
    assert sorted(written(stack.log_path)) == sorted(messages)

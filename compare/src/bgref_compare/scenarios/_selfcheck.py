"""The load generator's own capacity, against a trivial server, and the shared writer's cost.

A ratio between implementations means little if the generator, not the
server, was the limit: ``selfcheck`` measures what the generator reaches
against ``_trivial`` (a server that answers a fixed 200 and does nothing
else), started as ``python -m bgref_compare.scenarios._trivial``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from bgref_compare._profile import Profile
from bgref_compare.loadgen._bench import Bench, new_run_id
from bgref_compare.loadgen._loadgen import LoadSpec, Phase
from bgref_compare.stack._polling import wait_until
from bgref_compare.stack._ports import free_port
from bgref_compare.stack._process import ManagedProcess

from ._paths import SEND_PATH

__all__ = ["selfcheck", "writer_cost"]


def selfcheck(bench: Bench, profile: Profile) -> dict[str, Any]:
    """Measure the load generator against a trivial server that answers a fixed 200."""
    port = free_port()
    argv = [sys.executable, "-m", "bgref_compare.scenarios._trivial", "--port", str(port)]
    if bench.cpus.servers is not None:
        argv += ["--cpu", str(min(bench.cpus.servers))]
    env = dict(os.environ)
    server = ManagedProcess("trivial", argv, env=env, output=bench.workdir / "trivial.out")
    server.start()
    try:
        if not wait_until(lambda: _accepts(port) or not server.running, 10.0):
            raise RuntimeError(f"trivial server did not start:\n{server.output()}")
        phase = Phase(
            "selfcheck",
            SEND_PATH,
            profile.selfcheck_seconds,
            concurrency=profile.concurrency,
            writes=False,
        )
        spec = LoadSpec("127.0.0.1", port, new_run_id(), (phase,), cpu=bench.cpus.loadgen)
        data = bench.run_loadgen(spec, timeout=profile.selfcheck_seconds + 60)
    finally:
        server.stop(timeout=5.0)
    result = data["phases"][0]
    cpu = result.get("loadgen_cpu") or 0.0
    return {
        "capacity_rps": result["rps"],
        "loadgen_cpu": cpu,
        # What the generator would reach at full use of its CPU, from its CPU time per request.
        "cpu_bound_rps": round(result["rps"] / cpu, 1) if cpu else None,
        "concurrency": profile.concurrency,
        "seconds": profile.selfcheck_seconds,
        "failed": result["failed"],
        "uvloop": data.get("uvloop"),
        "latency_ms": result["latency_ms"],
        "writer_us": writer_cost(bench.workdir / "writer-cost.log"),
    }


def writer_cost(path: Path, count: int = 20_000) -> dict[str, float]:
    """Microseconds per ``write`` and per ``awrite`` of the shared writer, with no delay."""
    from bgref_linelog import LogWriter

    with LogWriter(path, fsync=False, delay_ms=0) as writer:
        started = time.perf_counter()
        for i in range(count):
            writer.write(f"w-{i}")
        write_us = (time.perf_counter() - started) / count * 1e6

        async def awrites() -> float:
            started = time.perf_counter()
            for i in range(count):
                await writer.awrite(f"a-{i}")
            return (time.perf_counter() - started) / count * 1e6

        awrite_us = asyncio.run(awrites())
    path.unlink(missing_ok=True)
    return {"write": round(write_us, 2), "awrite": round(awrite_us, 2)}


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False

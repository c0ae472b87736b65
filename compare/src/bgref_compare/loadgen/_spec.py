"""What one load-generator process does, as plain data: its phases and its target.

The harness builds a ``LoadSpec`` and sends it to the generator's process as JSON
on stdin (``python -m bgref_compare.loadgen._loadgen``): the harness's side of
the generator, kept apart from the run loop that is the generator's side.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ._connection import ROUND_ROBIN

__all__ = ["LoadSpec", "Phase"]


@dataclass(frozen=True)
class Phase:
    """One stretch of load on one path.

    Closed loop (``rate`` None): ``concurrency`` connections each send a request
    as soon as the previous one is answered. Open loop: requests are scheduled
    at ``rate`` per second whatever the server does, over at most
    ``concurrency`` connections; a request that finds none free waits, and the
    wait counts in its latency.

    ``connections`` is the pool's policy (``_connection.POLICIES``). In a closed
    loop, ROUND_ROBIN and BALANCED give every worker a keep-alive connection of
    its own, and the workers take turns in the order they became ready; HOT makes
    them share one most-recent-first pool.
    """

    label: str
    path: str
    seconds: float
    concurrency: int = 32
    rate: float | None = None
    # The path schedules work: every acknowledged message must reach the log.
    writes: bool = True
    # After the load stops, wait until every acknowledged message is in the log.
    drain: bool = False
    # Closed loop only: send only while fewer acknowledged messages than the cap
    # wait for the log. The cap is ``max_backlog``, raised to ``backlog_seconds``
    # worth of the completion rate measured as the phase runs: enough to keep
    # every worker of the implementation busy (Little's law), small enough that
    # the backlog drains in seconds instead of minutes.
    max_backlog: int | None = None
    backlog_seconds: float = 0.0
    connections: str = ROUND_ROBIN
    # Also count the latencies into a log-bucket histogram (p99.9 and its counts).
    histogram: bool = False


@dataclass(frozen=True)
class LoadSpec:
    """Everything one load-generator process does, as plain data."""

    host: str
    port: int
    run_id: str
    phases: tuple[Phase, ...]
    # The log to follow and check; None for a server that writes nothing.
    log_path: str | None = None
    cpu: int | None = None
    timeout_s: float = 30.0
    drain_timeout_s: float = 60.0
    # The completion rate is counted from this long after a phase starts.
    warm_s: float = 0.0
    poll_s: float = 0.001
    # Also return every request's status and answer time (the fault scenarios account
    # them themselves, once the stack has settled).
    per_request: bool = False
    # For BALANCED: the server's root process (its processes are it and its
    # descendants) and how many of them accept connections.
    server_pids: tuple[int, ...] = ()
    web_processes: int = 1
    # The server's processes, (name, pid), whose CPU every phase reads at its
    # edges (``_usage``), and the Redis whose commands it counts; empty: none.
    watch: tuple[tuple[str, int], ...] = ()
    redis_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Serialize for the load-generator process."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LoadSpec:
        """Read what ``to_json`` wrote."""
        data = json.loads(text)
        data["phases"] = tuple(Phase(**p) for p in data["phases"])
        data["server_pids"] = tuple(data.get("server_pids", ()))
        data["watch"] = tuple((name, pid) for name, pid in data.get("watch", ()))
        return cls(**data)

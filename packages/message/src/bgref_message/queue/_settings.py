"""What every worker queue's settings share: where Redis is, how long to wait for it, workers.

Celery, Dramatiq, RQ and Taskiq each read their own knobs (a visibility,
heartbeat or idle timeout, a linger, threads), but the broker's address, the
number of worker processes and the three waits on Redis mean the same for all
four, with the same defaults and the same variables: written once here, each
queue's ``Settings`` adds what is its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bgref_message import positive_int

__all__ = ["BrokerSettings"]


@dataclass(frozen=True)
class BrokerSettings:
    """Where the broker is, how long the web and the workers wait for it, how many workers."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    # Worker processes (BGREF_WORKERS): what the comparison's scale-out turns.
    workers: int = 2
    # The web gives up on Redis quickly: it answers in well under a millisecond on
    # a LAN, so a second's silence means it is down or frozen, and the request
    # gets its 503 well inside the contract's 3 s.
    publish_timeout: float = 1.0
    connect_timeout: float = 1.0
    # The workers wait longer: an acknowledgement that times out leaves its
    # message to be redelivered (and run twice), so a Redis that stalls for a few
    # seconds (a failover, a slow fork) should only delay them.
    worker_timeout: float = 30.0

    @classmethod
    def broker_env(cls, environ: Mapping[str, str]) -> dict[str, Any]:
        """The shared fields that ``environ`` sets (``REDIS_URL``, ``BGREF_WORKERS``)."""
        return {
            "redis_url": environ.get("REDIS_URL", "").strip() or cls.redis_url,
            "workers": positive_int(environ, "BGREF_WORKERS", cls.workers),
        }

    @property
    def publish_deadline(self) -> float:
        """The longest a request waits for its publish: a new connection, then the reply."""
        return self.connect_timeout + self.publish_timeout

"""The service's settings, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bgref_message import positive_float, positive_int

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Where the broker is, how long to wait for it, how many workers, when to redeliver."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    # How long a message may stay delivered but unacknowledged before a worker
    # takes it over (XAUTOCLAIM's min-idle-time; taskiq-redis's ``idle_timeout``).
    # Longer than any task and its wait in the worker, or work runs twice; it is
    # also how long the work of a worker that died waits. Ten minutes, as
    # taskiq-redis's default.
    idle_timeout: float = 600.0
    # `taskiq worker` processes.
    workers: int = 2
    # Tasks one worker process runs at once (`--max-async-tasks`): the work is
    # async, so a process overlaps many waits.
    concurrency: int = 100
    # The web gives up on Redis quickly: it answers in well under a millisecond
    # on a LAN, so a second's silence means it is down or frozen.
    kick_timeout: float = 1.0
    connect_timeout: float = 1.0
    # The worker waits longer: an acknowledgement that times out leaves its
    # message to be redelivered (and run twice), so a Redis that stalls for a
    # few seconds (a failover, a slow fork) should only delay the worker.
    worker_timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read ``REDIS_URL`` and the ``BGREF_*`` settings (see the README)."""
        return cls(
            redis_url=environ.get("REDIS_URL", "").strip() or cls.redis_url,
            idle_timeout=positive_float(environ, "BGREF_IDLE_TIMEOUT", cls.idle_timeout),
            workers=positive_int(environ, "BGREF_WORKERS", cls.workers),
            concurrency=positive_int(environ, "BGREF_CONCURRENCY", cls.concurrency),
        )

    @property
    def kick_deadline(self) -> float:
        """The longest a request waits for its kick: a new connection, then the reply."""
        return self.connect_timeout + self.kick_timeout

    @property
    def claim_interval(self) -> float:
        """How often a worker looks for messages left idle by a consumer that died."""
        return min(10.0, max(0.1, self.idle_timeout / 4))

    @property
    def retry_budget(self) -> float:
        """How long a failing write is retried in place before it is left for redelivery.

        A quarter of the idle timeout: the message must be acknowledged (or given
        up) well before another worker may take it over.
        """
        return min(10.0, self.idle_timeout / 4)

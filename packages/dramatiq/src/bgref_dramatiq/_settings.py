"""The service's settings, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bgref_message import positive_float, positive_int

__all__ = ["Settings"]

# Dramatiq's own default (``DEFAULT_HEARTBEAT_TIMEOUT``, 60 s): how long a worker
# process may go without a word to Redis before its unacknowledged messages are
# handed to another one.
DEFAULT_HEARTBEAT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings:
    """Where the broker is, how long to wait for it, and how many workers to run."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT
    # Worker processes (``dramatiq --processes``) and threads in each (``--threads``).
    # One thread (Dramatiq's default is 8): a worker then does one message at a
    # time, as a Celery pool process or an RQ worker does, so that the
    # comparison's capacity per worker means the same for all three.
    workers: int = 2
    threads: int = 1
    # The web gives up on Redis quickly: a second's silence means it is down or
    # frozen, and the request gets its 503 well inside the contract's 3 s.
    publish_timeout: float = 1.0
    # The worker waits longer: a fetch whose reply times out leaves its messages
    # claimed by this (live) worker until it restarts, so a Redis that stalls for a
    # few seconds should only delay the worker.
    worker_timeout: float = 30.0
    connect_timeout: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read ``REDIS_URL``, ``BGREF_WORKERS``, ``BGREF_THREADS`` and the heartbeat timeout.

        ``BGREF_VISIBILITY_TIMEOUT`` sets the heartbeat timeout, in seconds.
        """
        return cls(
            redis_url=environ.get("REDIS_URL", "").strip() or cls.redis_url,
            heartbeat_timeout=positive_float(
                environ, "BGREF_VISIBILITY_TIMEOUT", cls.heartbeat_timeout
            ),
            workers=positive_int(environ, "BGREF_WORKERS", cls.workers),
            threads=positive_int(environ, "BGREF_THREADS", cls.threads),
        )

    @property
    def publish_deadline(self) -> float:
        """How long a request waits for its publish at most: a connect, then a command."""
        return self.connect_timeout + self.publish_timeout

    @property
    def retry_backoff_max(self) -> float:
        """The longest wait between two attempts of a failing write (at most 60 s).

        Half the heartbeat timeout, so that the tests' short timeout also makes
        retries come back within seconds of the log being writable again.
        """
        return min(60.0, self.heartbeat_timeout / 2)

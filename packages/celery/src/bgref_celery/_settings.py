"""The service's settings, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bgref_message import milliseconds, positive_float, positive_int

__all__ = ["Settings"]

# An hour: how long a message may stay unacknowledged (its task running, or
# waiting in a worker for its next attempt) before Redis hands it to another
# worker. Longer than any task, or work runs twice; short enough that the work
# of a worker that died is taken up again the same hour.
DEFAULT_VISIBILITY_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Settings:
    """Where the broker is, how long to wait for it, and how many workers to run."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT
    workers: int = 2
    # The web gives up on Redis quickly: it answers in well under a millisecond on
    # a LAN, so a second's silence means it is down or frozen, and the request
    # gets its 503 well inside the 3-second budget.
    publish_timeout: float = 1.0
    # The worker waits longer: an acknowledgement that times out leaves its
    # message to be redelivered (and run twice), so a Redis that stalls for a few
    # seconds (a failover, a slow fork) should only delay the worker.
    worker_timeout: float = 30.0
    connect_timeout: float = 1.0
    # How long a group of messages waits for each next one before it is
    # published (the publish gate's linger): fuller tasks, which the worker runs
    # for about the same cost per task whatever their size, for a little latency.
    publish_linger: float = 0.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read ``REDIS_URL`` and the ``BGREF_*`` settings (packages/celery/README.md)."""
        return cls(
            redis_url=environ.get("REDIS_URL", "").strip() or cls.redis_url,
            visibility_timeout=positive_float(
                environ, "BGREF_VISIBILITY_TIMEOUT", cls.visibility_timeout
            ),
            workers=positive_int(environ, "BGREF_WORKERS", cls.workers),
            publish_linger=milliseconds(environ, "BGREF_PUBLISH_LINGER_MS", cls.publish_linger),
        )

    @property
    def publish_deadline(self) -> float:
        """The longest a request waits for its publish: a new connection, then the reply."""
        return self.connect_timeout + self.publish_timeout

    @property
    def retry_backoff_max(self) -> float:
        """The longest wait between two attempts of a failing write.

        A retried task waits in the worker unacknowledged, so the wait stays under
        half the visibility timeout: Redis never redelivers a message that is only
        waiting for its next attempt.
        """
        return min(60.0, self.visibility_timeout / 2)

"""The service's settings, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bgref_message import positive_float, positive_int
from bgref_message.queue import BrokerSettings

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings(BrokerSettings):
    """The broker's settings, when to redeliver, and how many tasks a worker overlaps.

    ``workers`` are ``taskiq worker`` processes; the publish is the web's ``kiq``.
    """

    # How long a message may stay delivered but unacknowledged before a worker
    # takes it over (XAUTOCLAIM's min-idle-time; taskiq-redis's ``idle_timeout``).
    # Longer than any task and its wait in the worker, or work runs twice; it is
    # also how long the work of a worker that died waits. Ten minutes, as
    # taskiq-redis's default.
    idle_timeout: float = 600.0
    # Tasks one worker process runs at once (`--max-async-tasks`): the work is
    # async, so a process overlaps many waits.
    concurrency: int = 100

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read ``REDIS_URL`` and the ``BGREF_*`` settings (see the README)."""
        return cls(
            **cls.broker_env(environ),
            idle_timeout=positive_float(environ, "BGREF_IDLE_TIMEOUT", cls.idle_timeout),
            concurrency=positive_int(environ, "BGREF_CONCURRENCY", cls.concurrency),
        )

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

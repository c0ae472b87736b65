"""The service's settings, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bgref_message import milliseconds, positive_float
from bgref_message.queue import BrokerSettings

__all__ = ["Settings"]

# An hour: how long a message may stay unacknowledged (its task running, or
# waiting in a worker for its next attempt) before Redis hands it to another
# worker. Longer than any task, or work runs twice; short enough that the work
# of a worker that died is taken up again the same hour.
DEFAULT_VISIBILITY_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Settings(BrokerSettings):
    """The broker's settings, and Celery's visibility timeout and linger.

    ``workers`` are the threads of the worker's pool (processes with ``--pool prefork``).
    """

    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT
    # How long a group of messages waits for each next one before it is
    # published (the publish gate's linger): fuller tasks, which the worker runs
    # for about the same cost per task whatever their size, for a little latency.
    publish_linger: float = 0.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read ``REDIS_URL`` and the ``BGREF_*`` settings (packages/celery/README.md)."""
        return cls(
            **cls.broker_env(environ),
            visibility_timeout=positive_float(
                environ, "BGREF_VISIBILITY_TIMEOUT", cls.visibility_timeout
            ),
            publish_linger=milliseconds(environ, "BGREF_PUBLISH_LINGER_MS", cls.publish_linger),
        )

    @property
    def retry_backoff_max(self) -> float:
        """The longest wait between two attempts of a failing write.

        A retried task waits in the worker unacknowledged, so the wait stays under
        half the visibility timeout: Redis never redelivers a message that is only
        waiting for its next attempt.
        """
        return min(60.0, self.visibility_timeout / 2)

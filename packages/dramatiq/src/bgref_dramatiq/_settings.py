"""The service's settings, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bgref_message import positive_float, positive_int
from bgref_message.queue import BrokerSettings

__all__ = ["Settings"]

# Dramatiq's own default (``DEFAULT_HEARTBEAT_TIMEOUT``, 60 s): how long a worker
# process may go without a word to Redis before its unacknowledged messages are
# handed to another one.
DEFAULT_HEARTBEAT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings(BrokerSettings):
    """The broker's settings, and Dramatiq's heartbeat timeout and threads.

    ``workers`` are the processes of ``dramatiq --processes``. Their longer wait on
    Redis matters here too: a fetch whose reply times out leaves its messages
    claimed by this (live) worker until it restarts.
    """

    heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT
    # Threads in each worker process (``--threads``). One (Dramatiq's default is
    # 8): a worker then does one message at a time, as a Celery pool process or
    # an RQ worker does, so that the comparison's capacity per worker means the
    # same for all three.
    threads: int = 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read ``REDIS_URL``, ``BGREF_WORKERS``, ``BGREF_THREADS`` and the heartbeat timeout.

        ``BGREF_VISIBILITY_TIMEOUT`` sets the heartbeat timeout, in seconds.
        """
        return cls(
            **cls.broker_env(environ),
            heartbeat_timeout=positive_float(
                environ, "BGREF_VISIBILITY_TIMEOUT", cls.heartbeat_timeout
            ),
            threads=positive_int(environ, "BGREF_THREADS", cls.threads),
        )

    @property
    def retry_backoff_max(self) -> float:
        """The longest wait between two attempts of a failing write (at most 60 s).

        Half the heartbeat timeout, so that the tests' short timeout also makes
        retries come back within seconds of the log being writable again.
        """
        return min(60.0, self.heartbeat_timeout / 2)

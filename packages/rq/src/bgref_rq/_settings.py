"""The service's settings, read from the environment."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from bgref_message import positive_float
from bgref_message.queue import BrokerSettings

__all__ = ["Settings"]

# A minute: RQ's own fixed margins are a minute (a started job's heartbeat lasts
# its timeout plus 60 s; a job stranded in the intermediate list is retried
# after a minute), and so is this default: see ``Settings.visibility_timeout``.
DEFAULT_VISIBILITY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings(BrokerSettings):
    """The broker's settings, and how soon a dead worker's jobs come back.

    ``workers`` are the processes of ``rq worker-pool --num-workers``.
    """

    # One knob for every wait between a worker's death and its job's return,
    # each of which RQ fixes or defaults elsewhere (see the package README):
    # - the job timeout, after which RQ kills a job in its worker (RQ: 180 s);
    # - the margin after it before a started job whose worker fell silent
    #   counts as abandoned (RQ: a fixed 60 s);
    # - how long a job may sit in the intermediate list, taken by a worker that
    #   never started it, before it is retried (RQ: a fixed minute);
    # - how often a worker looks for both, busy or idle (RQ: every 10 minutes,
    #   and an idle worker only every worker_ttl - 15 s, 405 s).
    # A dead worker's job therefore comes back between two and four of these
    # after it was taken.
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read ``REDIS_URL``, ``BGREF_VISIBILITY_TIMEOUT`` and ``BGREF_WORKERS``."""
        return cls(
            **cls.broker_env(environ),
            visibility_timeout=positive_float(
                environ, "BGREF_VISIBILITY_TIMEOUT", cls.visibility_timeout
            ),
        )

    @property
    def seconds(self) -> int:
        """``visibility_timeout`` in whole seconds, as RQ takes its timeouts."""
        return max(1, math.ceil(self.visibility_timeout))

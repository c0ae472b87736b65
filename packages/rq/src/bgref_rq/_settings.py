"""The service's settings, read from the environment."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from bgref_message import positive_float, positive_int

__all__ = ["Settings"]

# A minute: RQ's own fixed margins are a minute (a started job's heartbeat lasts
# its timeout plus 60 s; a job stranded in the intermediate list is retried
# after a minute), and so is this default: see ``Settings.visibility_timeout``.
DEFAULT_VISIBILITY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings:
    """Where the broker is, how long to wait for it, how many workers, how soon jobs come back."""

    redis_url: str = "redis://127.0.0.1:6379/0"
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
    # Worker processes in the pool (``rq worker-pool --num-workers``).
    workers: int = 2
    # The web gives up on Redis quickly: a second's silence means it is down or
    # frozen, and the request gets its 503 well inside the contract's 3 s.
    publish_timeout: float = 1.0
    connect_timeout: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read ``REDIS_URL``, ``BGREF_VISIBILITY_TIMEOUT`` and ``BGREF_WORKERS``."""
        return cls(
            redis_url=environ.get("REDIS_URL", "").strip() or cls.redis_url,
            visibility_timeout=positive_float(
                environ, "BGREF_VISIBILITY_TIMEOUT", cls.visibility_timeout
            ),
            workers=positive_int(environ, "BGREF_WORKERS", cls.workers),
        )

    @property
    def publish_deadline(self) -> float:
        """The longest a request waits for its publish: a new connection, then the reply."""
        return self.connect_timeout + self.publish_timeout

    @property
    def seconds(self) -> int:
        """``visibility_timeout`` in whole seconds, as RQ takes its timeouts."""
        return max(1, math.ceil(self.visibility_timeout))

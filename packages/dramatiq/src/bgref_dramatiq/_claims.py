"""The messages a worker process holds: handed to its threads and not yet settled.

Dramatiq's Redis broker records every message a worker fetched in that
worker's set of unacknowledged ids (``__acks__``), and takes them back only
once the worker falls silent for the heartbeat timeout. A live worker's set
may also hold ids it never received (a fetch whose answer was lost, see
``_consumer.py``): those are the ids in the set that no thread holds. This
record is what tells the two apart. It belongs to the process, not to one
consumer: Dramatiq replaces a consumer after a connection error while the
messages it handed out are still being worked on, and acknowledged later.
"""

from __future__ import annotations

import threading

__all__ = ["Claims"]


class Claims:
    """Redis ids of one queue's messages held: by the process's threads, or one consumer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[str] = set()

    def hold(self, redis_id: str) -> None:
        """A message handed to the worker's threads."""
        with self._lock:
            self._held.add(redis_id)

    def release(self, *redis_ids: str) -> None:
        """Messages acknowledged, rejected or put back: Redis no longer counts them as ours."""
        with self._lock:
            self._held.difference_update(redis_ids)

    def unheld(self, claimed: set[str]) -> set[str]:
        """The ids among ``claimed`` (Redis's record) that are not held here."""
        with self._lock:
            return claimed - self._held

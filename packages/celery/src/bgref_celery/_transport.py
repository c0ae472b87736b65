"""kombu's Redis transport, except that losing Redis cannot stop the worker."""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis

__all__ = ["TRANSPORT", "Transport"]

logger = logging.getLogger(__name__)

# Where Celery finds it (``broker_transport``): an import path, not a URL scheme.
TRANSPORT = f"{__name__}:Transport"


class _QoS(redis.QoS):
    def restore_unacked(self, client: Any = None) -> None:
        """Put the messages this channel holds back in the queue, if Redis can be reached."""
        try:
            super().restore_unacked(client)  # type: ignore[no-untyped-call]
        except Exception:
            # When the connection to Redis is lost, kombu closes the channel and
            # tries this with a connection that is already gone: an
            # AttributeError ('NoneType' object has no attribute 'hostname',
            # kombu issue 582) that would end the worker, or a connection error.
            # The messages are safe: Redis keeps them in its unacked hash, and a
            # worker's sweep hands them out again after the visibility timeout.
            logger.warning(
                "Could not put back %d unacknowledged messages now; Redis hands them"
                " out again after the visibility timeout",
                len(self._delivered),
                exc_info=True,
            )
            # restore_unacked_once expects them gone once it has run.
            self._delivered.clear()

    def ack(self, delivery_tag: Any) -> None:
        """Acknowledge a message, unless its channel has already lost its connection."""
        if self._gone(delivery_tag):
            return
        super().ack(delivery_tag)  # type: ignore[no-untyped-call]

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        """Reject a message, unless its channel has already lost its connection."""
        if self._gone(delivery_tag):
            return
        super().reject(delivery_tag, requeue=requeue)  # type: ignore[no-untyped-call]

    def _gone(self, delivery_tag: Any) -> bool:
        # A task that finishes after the connection was lost acknowledges on its
        # old, closed channel, whose transport kombu has dropped: an
        # AttributeError ('NoneType' object has no attribute 'client') that stops
        # the worker's consumer for good. The message stays in Redis's unacked
        # hash and runs again after the visibility timeout: at least once.
        if self.channel.connection is not None:
            return False
        logger.warning(
            "Could not acknowledge message %s: its connection to Redis was lost;"
            " Redis hands it out again after the visibility timeout",
            delivery_tag,
        )
        self._delivered.pop(delivery_tag, None)
        return True


class _Channel(redis.Channel):
    QoS = _QoS


class Transport(redis.Transport):
    """The Redis transport with a channel whose cleanup survives a lost connection."""

    Channel = _Channel

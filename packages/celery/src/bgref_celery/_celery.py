"""The Celery application: a Redis broker, JSON only, late acknowledgement, no results."""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import parse_qs, urlsplit

from celery import Celery

from ._settings import Settings
from ._transport import TRANSPORT

__all__ = ["BATCH_TASK_NAME", "TASK_NAME", "make_celery", "publisher_transport_options"]

# The names travel inside every queued message, so they are spelled out rather
# than derived from the module path: moving the code must not strand queued work.
TASK_NAME = "bgref_celery.write_message"
BATCH_TASK_NAME = "bgref_celery.write_messages"


def make_celery(settings: Settings) -> Any:
    """Return a Celery app configured from ``settings`` (shared by the web and the worker)."""
    app = Celery("bgref_celery", set_as_current=False)
    app.conf.update(
        broker_url=settings.redis_url,
        # kombu's Redis transport with fixes: no message is lost between Redis
        # and the worker, and a lost connection no longer stops the worker (see
        # _transport).
        broker_transport=TRANSPORT,
        broker_use_ssl=_ssl_options(settings.redis_url),
        broker_transport_options=_transport_options(settings),
        broker_connection_timeout=settings.connect_timeout,
        # The worker keeps reconnecting for as long as Redis is away, instead of
        # exiting after 100 attempts; a supervisor restart would not help.
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        # JSON only: a pickled message is rejected unread, never executed.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        # Events are off (--without-gossip etc.), but if turned on they are JSON too.
        event_serializer="json",
        # Nothing reads results, so nothing stores them.
        task_ignore_result=True,
        result_backend=None,
        # Acknowledge after the write: a worker that dies mid-task leaves the
        # message for another worker instead of losing it.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # With late acks each thread (or pool process) holds one message at a
        # time, so a crash or a shutdown strands at most one unstarted message each.
        worker_prefetch_multiplier=1,
        # The pool's size. The pool itself is the worker's --pool: Celery's
        # command line cannot choose prefork over a configured worker_pool
        # (celery/bin/worker.py, WorkersPool.convert), and the pitfall lab's
        # worker runs the docs' prefork (packages/celery/README.md, "Threads").
        worker_concurrency=settings.workers,
        # Publishing gives up quickly, so a request never waits long on a dead broker.
        task_publish_retry_policy={
            "max_retries": 1,
            "interval_start": 0.0,
            "interval_step": 0.1,
            "interval_max": 0.1,
        },
        # A task running when the connection drops finishes its (short) work; its
        # acknowledgement is lost, so it runs again later: at least once.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # Read by the task: how long a failing write waits, at most, between attempts.
        bgref_retry_backoff_max=settings.retry_backoff_max,
    )
    return app


def _transport_options(settings: Settings) -> dict[str, Any]:
    vt = settings.visibility_timeout
    return {
        "visibility_timeout": vt,
        # One key per queue (no priority sub-queues), so that the worker can take
        # messages with BLMOVE, which has one source (see _transport).
        "priority_steps": [0],
        # Look for messages abandoned by a dead worker several times per
        # visibility timeout (kombu's default sweep is every ~100 s).
        "unacked_restore_interval": min(10.0, max(0.5, vt / 4)),
        "unacked_restore_throttle": 1,
        # A sweep holds a lock in Redis, which outlives a worker (or a Redis)
        # killed mid-sweep: until it expires no sweep runs. kombu's 5 minutes
        # would leave the orphaned messages waiting that long.
        "unacked_mutex_expire": int(min(300, max(2, vt))),
        "socket_timeout": settings.worker_timeout,
        "socket_connect_timeout": settings.connect_timeout,
        "socket_keepalive": True,
        # Pipelined publishes are never replayed on a timeout: a replay could
        # queue a message twice.
        "retry_on_timeout": False,
    }


def publisher_transport_options(settings: Settings) -> dict[str, Any]:
    """The web's overrides: a publish waits at most ``publish_timeout`` for Redis."""
    return {
        "socket_timeout": settings.publish_timeout,
        "socket_connect_timeout": settings.connect_timeout,
        # kombu retries a refused connection after 2 s (its interval_start): a
        # publish to a Redis that is down would wait 4 s instead of failing.
        # The publisher makes its one retry itself (see _publisher).
        "max_retries": 0,
    }


def _ssl_options(url: str) -> dict[str, Any] | None:
    """Verify the server's certificate on ``rediss://`` unless the URL says otherwise.

    kombu alone would fall back to no verification at all.
    """
    parts = urlsplit(url)
    if parts.scheme != "rediss":
        return None
    if "ssl_cert_reqs" in parse_qs(parts.query):
        # The URL's own ssl_* parameters take precedence over broker_use_ssl.
        return None
    return {"ssl_cert_reqs": ssl.CERT_REQUIRED}

"""The docs' way, outside the contract: ``queue.enqueue(write_message, message)``, one job each.

This is RQ as its docs and the usual Flask/FastAPI + RQ tutorials show it (RQ
docs, Queues: ``q = Queue(connection=Redis())`` then
``q.enqueue(count_words_at_url, 'http://nvie.com')``; testdriven.io,
"Asynchronous Tasks with Flask and Redis Queue"): a plain ``def`` endpoint
calls ``enqueue``, which FastAPI runs in its thread pool, one job per message,
a Redis client and a queue on their defaults: no retry (RQ's default), RQ's
180 s job timeout, redis-py's default client (a 5 s socket timeout).

One departure, on the worker's account: the queue is RQ's JSON one
(``serializer=JSONSerializer``, RQ docs, Jobs: serialization), because the
worker processes it shares refuse pickles (``MessageJob``).

What the defaults mean (package README, "The docs' way"): a job whose worker
dies is failed as abandoned and kept in the failed-job registry, never run
again by itself; a failed write is not retried either; with Redis down a
request gets a plain-text 500 at once, and with Redis frozen the same after
its thread waited out the 5 s socket timeout.
"""

from __future__ import annotations

from fastapi import APIRouter
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from bgref_message import RECEIVED
from bgref_message.fastapi import Message

from ._jobs import write_message
from ._settings import Settings

__all__ = ["lab_router"]


def lab_router(settings: Settings) -> APIRouter:
    """The lab's route, queueing through a queue on RQ's and redis-py's defaults."""
    queue = Queue(connection=Redis.from_url(settings.redis_url), serializer=JSONSerializer)
    router = APIRouter(prefix="/lab", include_in_schema=False)

    # Plain `def`, as in the tutorials: `enqueue` blocks on Redis, so FastAPI runs
    # the endpoint in its thread pool.
    @router.post("/enqueue/")
    def enqueue(message: Message) -> dict[str, str]:
        """Queue one job for the message; answer."""
        queue.enqueue(write_message, message)
        return RECEIVED

    return router

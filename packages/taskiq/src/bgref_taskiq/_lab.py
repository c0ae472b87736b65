"""The docs' version, outside the tuned path: ``await write_message.kiq(message)``, one task each.

This is Taskiq as its docs and taskiq-redis's README show it (taskiq docs,
Getting started: ``await my_task.kiq(...)`` from an ``async def``;
taskiq-redis README, ``RedisStreamBroker``; taskiq docs, Framework
integrations, taskiq + FastAPI): an ``async def`` endpoint kicks one task per
message on a ``RedisStreamBroker`` built from the URL alone, and answers. Only
the stream's name is ours, so that the same worker processes consume it.

Nothing bounds a kick but what taskiq and redis-py give (taskiq-redis 1.2,
redis-py 8.1): redis-py's default socket timeouts (5 s since redis-py 8; none
before), a ``BlockingConnectionPool`` of 100 connections (taskiq-redis passes
no size; redis-py then takes 100) that a request waits up to 20 s for, no
breaker and no retry. So a refused connection is a ``500`` (the exception,
through FastAPI's default handler) rather than the contract's ``503``, and
with Redis frozen every request waits 5 s for its ``500``, however long the
outage, where the tuned route answers ``503`` within its 1 s deadline once and
at once after that.

The docs' lifespan (and taskiq-fastapi's ``init``) also awaits
``broker.startup()``, which for this broker declares the consumer group at
``$``; the lab leaves that to the tuned broker, which declares it at ``0`` (a
group made at ``$`` would skip what was queued before it) and does not fail the
app's start when Redis is down. The worker runs the task (``write_message``,
with the same boundary checks and the same acknowledgement after the write as
the tuned path's).
"""

from __future__ import annotations

from fastapi import APIRouter
from taskiq_redis import RedisStreamBroker

from bgref_message import RECEIVED
from bgref_message.fastapi import Message

from ._boundary import TASK_NAME
from ._broker import STREAM
from ._settings import Settings

__all__ = ["Lab"]


class Lab:
    """The lab's route (``/lab/kiq/``) and the plain broker it kicks with."""

    def __init__(self, settings: Settings) -> None:
        self.broker = RedisStreamBroker(settings.redis_url, queue_name=STREAM)

        # As in the docs, the task is declared on the broker that kicks it; the
        # worker registers its own ``write_message`` under the same name.
        @self.broker.task(task_name=TASK_NAME)
        async def write_message(message: str) -> None:  # pragma: no cover - the worker's runs
            raise NotImplementedError("run by the worker's task of the same name")

        self.router = APIRouter(prefix="/lab", include_in_schema=False)

        @self.router.post("/kiq/")
        async def kiq(message: Message) -> dict[str, str]:
            """Kick one task for the message; answer."""
            await write_message.kiq(message)
            return RECEIVED

    async def close(self) -> None:
        """Release the broker's connections."""
        await self.broker.connection_pool.disconnect()

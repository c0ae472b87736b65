"""The pitfall lab: the ways the tutorial's advice goes wrong, outside the contract."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request

from bgref_linelog import LogWriter
from bgref_message.fastapi import Message

from ._models import Received

__all__ = ["USED_AFTER_CLEANUP", "router"]

logger = logging.getLogger(__name__)

# What the session of /lab/yield-dependency/ logs when it is used after its cleanup.
USED_AFTER_CLEANUP = "lab session used after its cleanup"

# Routes for the comparison harness only: they answer like /send-message/, but
# they are not part of the contract, so they stay out of the OpenAPI schema.
router = APIRouter(include_in_schema=False)


@router.post("/right-way/")
async def right_way(
    message: Message, request: Request, background_tasks: BackgroundTasks
) -> Received:
    """The tutorial's advice: a plain ``def`` task, which FastAPI runs in the thread pool."""
    writer: LogWriter = request.app.state.writer
    background_tasks.add_task(writer.write, message)
    return Received()


@router.post("/wrong-way/")
async def wrong_way(message: Message, request: Request) -> Received:
    """The tutorial's wrong way: the blocking write runs inside the request."""
    writer: LogWriter = request.app.state.writer
    # Blocks the event loop for the whole simulated delay, and the client waits too.
    writer.write(message)
    return Received()


@router.post("/lab/def-endpoint/")
def def_endpoint(message: Message, request: Request) -> Received:
    """The work inline in a plain ``def`` endpoint, which FastAPI runs in its thread pool.

    The client waits for the work, as on ``/wrong-way/``, but the event loop does
    not: this measures inline work, where ``/wrong-way/`` measures a blocked loop.
    """
    writer: LogWriter = request.app.state.writer
    writer.write(message)
    return Received()


async def write_blocking(writer: LogWriter, message: str) -> None:
    """An ``async def`` task that calls the blocking ``write``: it stalls the event loop."""
    writer.write(message)


@router.post("/lab/async-blocking/")
async def async_blocking(
    message: Message, request: Request, background_tasks: BackgroundTasks
) -> Received:
    """Answer first, then block the event loop in an ``async def`` task."""
    writer: LogWriter = request.app.state.writer
    background_tasks.add_task(write_blocking, writer, message)
    return Received()


class Session:
    """A database-session-like object that records use after its cleanup.

    It goes on writing (a real session would raise or silently reconnect), but
    logs ``USED_AFTER_CLEANUP`` each time, so that the misuse can be counted.
    """

    def __init__(self, writer: LogWriter) -> None:
        self._writer = writer
        self.closed = False

    def write(self, message: str) -> None:
        if self.closed:
            logger.warning(USED_AFTER_CLEANUP)
        self._writer.write(message)

    def close(self) -> None:
        self.closed = True


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The ``get_db`` dependency of FastAPI's docs (Dependencies with yield)."""
    session = Session(request.app.state.writer)
    try:
        yield session
    finally:
        session.close()


@router.post("/lab/yield-dependency/")
async def yield_dependency(
    message: Message,
    session: Annotated[Session, Depends(get_session)],
    background_tasks: BackgroundTasks,
) -> Received:
    """Hand the dependency's session to a background task, as fastapi#2866 does.

    From FastAPI 0.106 to 0.117 the exit code of a ``yield`` dependency ran
    before the background tasks (0.106.0's release notes: "Using resources from
    dependencies with yield in background tasks is no longer supported"), so
    the task got a closed session; 0.118.0 moved it after the response again.
    The session's log says which one the installed FastAPI does.
    """
    background_tasks.add_task(session.write, message)
    return Received()

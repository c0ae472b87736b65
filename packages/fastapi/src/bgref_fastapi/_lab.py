"""The pitfall lab: the ways the tutorial's advice goes wrong, outside the contract."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from linelog import LogWriter

from ._message import Message
from ._models import Received

__all__ = ["router"]

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

"""The pitfall lab: the ways the tutorial's advice goes wrong, outside the contract."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks

from linelog import LogWriter

from ._dependencies import Message, Writer
from ._models import Received

__all__ = ["router"]

# Routes for the comparison harness only: they answer like /send-message/, but
# they are not part of the contract, so they stay out of the OpenAPI schema.
router = APIRouter(include_in_schema=False)


@router.post("/right-way/")
async def right_way(
    message: Message, writer: Writer, background_tasks: BackgroundTasks
) -> Received:
    """The tutorial's advice: a plain ``def`` task, which FastAPI runs in the thread pool."""
    background_tasks.add_task(writer.write, message)
    return Received()


@router.post("/wrong-way/")
async def wrong_way(message: Message, writer: Writer) -> Received:
    """The tutorial's wrong way: the blocking write runs inside the request."""
    # Blocks the event loop for the whole simulated delay, and the client waits too.
    writer.write(message)
    return Received()


async def write_blocking(writer: LogWriter, message: str) -> None:
    """An ``async def`` task that calls the blocking ``write``: it stalls the event loop."""
    writer.write(message)


@router.post("/lab/async-blocking/")
async def async_blocking(
    message: Message, writer: Writer, background_tasks: BackgroundTasks
) -> Received:
    """Answer first, then block the event loop in an ``async def`` task."""
    background_tasks.add_task(write_blocking, writer, message)
    return Received()

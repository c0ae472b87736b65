"""The routes of the send-message contract (docs/contract.md)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from linelog import LogWriter

from ._message import Message
from ._models import Health, Received
from ._tasks import write_message

__all__ = ["router"]

router = APIRouter()


@router.post(
    "/send-message/",
    operation_id="send_message",
    summary="Acknowledge a message and write it to the log in the background",
)
async def send_message(
    message: Message, request: Request, background_tasks: BackgroundTasks
) -> Received:
    """Acknowledge the message; it is written after the response is sent."""
    # The writer comes from app.state rather than from a dependency: each FastAPI
    # dependency costs about as much per request as the write itself.
    writer: LogWriter = request.app.state.writer
    background_tasks.add_task(write_message, writer, message)
    return Received()


@router.post(
    "/baseline/",
    operation_id="baseline",
    summary="Validate and answer like /send-message/, scheduling no work",
)
async def baseline(message: Message) -> Received:
    """Validate and answer like /send-message/, but schedule nothing."""
    return Received()


@router.get(
    "/healthz", operation_id="healthz", summary="Whether the implementation can accept work"
)
async def healthz() -> Health:
    """Report that the app accepts work: it has no queue to fill or broker to lose."""
    return Health()

"""The routes of the send-message contract (docs/contract.md)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks

from ._dependencies import Message, Writer
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
    message: Message, writer: Writer, background_tasks: BackgroundTasks
) -> Received:
    """Acknowledge the message; it is written after the response is sent."""
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

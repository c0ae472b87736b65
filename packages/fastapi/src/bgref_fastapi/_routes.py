"""The routes of the send-message contract (docs/contract.md)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from bgref_linelog import LogWriter
from bgref_message.fastapi import Message

from ._models import Health, Received, unavailable
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
    "/healthz",
    operation_id="healthz",
    summary="Whether the implementation can accept work",
    response_model=Health,
    responses={503: {"description": "The log file cannot be written for now"}},
)
async def healthz(request: Request) -> Health | JSONResponse:
    """Report whether the app accepts work: 503 while its writer holds lines it cannot write."""
    writer: LogWriter = request.app.state.writer
    if writer.held:
        return unavailable(writer)
    return Health()

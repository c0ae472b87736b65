"""The endpoints of the send-message contract (docs/contract.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse

from bgref_linelog import LogWriter
from bgref_message import RECEIVED, parse_message

from ._tasks import write_message

__all__ = ["baseline", "healthz", "send_message"]


Endpoint = Callable[[Request], Awaitable[JSONResponse]]


def send_message(writer: LogWriter) -> Endpoint:
    """The send-message endpoint, writing with ``writer``."""

    # A closure rather than request.app.state.writer: that lookup (State's
    # __getattr__) cost about 3 µs per request in the server, 5% of the
    # throughput of this app (packages/starlette/README.md).
    async def send_message(request: Request) -> JSONResponse:
        """Acknowledge the message; it is written after the response is sent."""
        message = parse_message(request.scope["query_string"])
        return JSONResponse(RECEIVED, background=BackgroundTask(write_message, writer, message))

    return send_message


async def baseline(request: Request) -> JSONResponse:
    """Validate and answer like ``send_message``, but schedule nothing."""
    parse_message(request.scope["query_string"])
    return JSONResponse(RECEIVED)


def healthz(writer: LogWriter) -> Endpoint:
    """The health endpoint: 503 while ``writer`` holds lines it cannot write yet."""

    async def healthz(request: Request) -> JSONResponse:
        """Report whether the app accepts work (a load balancer stops sending on 503)."""
        if writer.held:
            detail = f"the log file cannot be written; {writer.held} lines held for a retry"
            return JSONResponse(
                {"status": "unavailable", "detail": detail},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        return JSONResponse({"status": "ok"})

    return healthz

"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route

from bgref_linelog import LogWriter
from bgref_message import InvalidMessage, Trace, TraceMiddleware

from ._endpoints import baseline, healthz, send_message
from ._handlers import http_error, invalid_message
from ._lab import lab_routes

__all__ = ["create_app"]


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    # Uvicorn runs the shutdown half only after in-flight requests and their
    # background tasks have finished (or --timeout-graceful-shutdown has passed).
    writer: LogWriter = app.state.writer
    with writer:
        yield


def create_app() -> Starlette:
    """Create the app and its log writer (``LOG_PATH``, ``LOG_DELAY_MS``, ``LOG_FSYNC``)."""
    # One writer per process, shared by every request and task.
    writer = LogWriter()
    app = Starlette(
        routes=[
            Route("/send-message/", send_message(writer), methods=["POST"]),
            Route("/baseline/", baseline, methods=["POST"]),
            Route("/healthz", healthz(writer), methods=["GET"]),
            *lab_routes(writer),
        ],
        exception_handlers={HTTPException: http_error, InvalidMessage: invalid_message},
        lifespan=_lifespan,
    )
    # The contract's paths are exact: a 307 to the other spelling would have the
    # client POST the message a second time, and its empty body is not JSON.
    app.router.redirect_slashes = False
    # Kept on the app too, for the lifespan and for anyone extending the app.
    app.state.writer = writer
    trace = Trace.from_env()
    if trace is not None:
        # The contract suite's test aid (BGREF_TRACE, docs/contract.md): unset, no
        # middleware at all.
        app.add_middleware(TraceMiddleware, trace=trace)
    return app

"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bgref_linelog import LogWriter
from bgref_message import Trace, TraceMiddleware

from . import _lab, _routes

__all__ = ["create_app"]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Uvicorn runs the shutdown half only after in-flight requests and their
    # background tasks have finished (or --timeout-graceful-shutdown has passed).
    writer: LogWriter = app.state.writer
    with writer:
        yield


def create_app() -> FastAPI:
    """Create the app and its log writer (``LOG_PATH``, ``LOG_DELAY_MS``, ``LOG_FSYNC``)."""
    app = FastAPI(
        title="bgref-fastapi",
        summary="The send-message contract with FastAPI BackgroundTasks.",
        version="0.1.0",
        lifespan=_lifespan,
        # The contract's paths are exact: a 307 to the other spelling would have the
        # client POST the message a second time, and its empty body is not JSON.
        redirect_slashes=False,
    )
    # One writer per process, shared by every request and task.
    app.state.writer = LogWriter()
    app.include_router(_routes.router)
    app.include_router(_lab.router)
    trace = Trace.from_env()
    if trace is not None:
        # The contract suite's test aid (BGREF_TRACE, docs/contract.md): unset, no
        # middleware at all.
        app.add_middleware(TraceMiddleware, trace=trace)
    return app

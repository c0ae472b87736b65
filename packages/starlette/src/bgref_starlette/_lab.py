"""The idiomatic versions, outside the contract: how Starlette apps often hand off work.

Each route answers like ``/send-message/``; the registry's variants describe
what each one loses by design, and the contract suite measures it.
"""

from __future__ import annotations

import asyncio
import gc
import logging

from starlette.applications import Starlette
from starlette.background import BackgroundTasks
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bgref_linelog import LogWriter
from bgref_message import RECEIVED, InvalidMessage, parse_message

from ._handlers import http_error, invalid_message

__all__ = ["GC_INTERVAL", "lab_routes"]

logger = logging.getLogger(__name__)

# How often the create-task route's collector runs, in seconds.
GC_INTERVAL = 0.010


class _Collector:
    """Runs ``gc.collect()`` every ``GC_INTERVAL`` once the create-task route is used.

    A task that nothing refers to may be collected while pending (asyncio docs,
    create_task). Forcing collections measures that instead of assuming it.
    """

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def ensure_running(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            gc.collect()
            await asyncio.sleep(GC_INTERVAL)


def lab_routes(writer: LogWriter) -> list[BaseRoute]:
    """The lab's routes, under ``/lab/``, writing with ``writer``."""
    collector = _Collector()

    async def create_task(request: Request) -> JSONResponse:
        """Schedule the write with ``asyncio.create_task`` and keep no reference to it."""
        message = parse_message(request.scope["query_string"])
        collector.ensure_running()
        # Fire and forget, as in fastapi#2086 and countless answers: the event
        # loop keeps only a weak reference to the task (asyncio docs, create_task).
        asyncio.create_task(writer.awrite(message))  # noqa: RUF006 - the pitfall itself
        return JSONResponse(RECEIVED)

    async def behind_middleware(request: Request) -> JSONResponse:
        """The implementation's endpoint, mounted behind a ``BaseHTTPMiddleware``."""
        message = parse_message(request.scope["query_string"])
        tasks = BackgroundTasks()
        tasks.add_task(writer.awrite, message)
        return JSONResponse(RECEIVED, background=tasks)

    async def passthrough(request: Request, call_next: RequestResponseEndpoint) -> Response:
        # The smallest BaseHTTPMiddleware (Starlette docs, Middleware): starlette#919,
        # starlette#2658 and fastapi#4616 report background tasks held up behind one.
        return await call_next(request)

    async def tasks_one_raises(request: Request) -> JSONResponse:
        """Two background tasks: one that raises, then the write."""
        message = parse_message(request.scope["query_string"])
        tasks = BackgroundTasks()
        # Starlette runs a response's tasks in order (Starlette docs, Background
        # Tasks); one that raises ends the run (starlette discussion #1584), so
        # the write after it never runs.
        tasks.add_task(_notify)
        tasks.add_task(writer.awrite, message)
        return JSONResponse(RECEIVED, background=tasks)

    handlers = {HTTPException: http_error, InvalidMessage: invalid_message}
    middleware_app = Starlette(
        routes=[Route("/", behind_middleware, methods=["POST"])],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=passthrough)],
        exception_handlers=handlers,
    )
    return [
        Route("/lab/create-task/", create_task, methods=["POST"]),
        Route("/lab/tasks-one-raises/", tasks_one_raises, methods=["POST"]),
        Mount("/lab/middleware", app=middleware_app),
    ]


async def _notify() -> None:
    """A task that fails, as a webhook call to a service that is down would."""
    raise RuntimeError("lab: the notification before the write failed")

"""A worker queue's whole web front: the contract's three routes around the queue's ``submit``.

The same front for Celery, Dramatiq, RQ and Taskiq, so that a queue's package
holds only what is its own (how it publishes, how its worker runs). Needs
FastAPI: ``bgref-message[fastapi]``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import JSONResponse

from bgref_message import RECEIVED, RETRY_AFTER, UNAVAILABLE, health
from bgref_message.fastapi import Message

from ._gate import BrokerUnavailable

__all__ = ["queue_app"]


def queue_app(
    title: str,
    *,
    submit: Callable[[str], Awaitable[None]],
    unavailable: Callable[[], str | None],
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], object],
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The web front of a worker queue: ``/send-message/``, ``/baseline/``, ``/healthz``.

    ``submit(message)`` returns once the broker holds the message, or raises
    ``BrokerUnavailable`` (a ``503`` with ``detail`` and ``Retry-After``, nothing
    acknowledged); ``unavailable()`` says without waiting why the broker is
    known to be away, or None. ``start`` runs before the first request and
    ``stop`` (awaited if it returns an awaitable) at shutdown. ``routers`` add
    the package's own routes (its pitfall lab).
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await start()
        try:
            yield
        finally:
            stopped = stop()
            if inspect.isawaitable(stopped):
                await stopped

    # The contract's paths are exact: a 307 to the other spelling would have the
    # client POST the message a second time, and its empty body is not JSON.
    app = FastAPI(title=title, lifespan=lifespan, redirect_slashes=False)
    for router in routers:
        app.include_router(router)

    @app.post(
        "/send-message/",
        responses={503: {"description": "The broker is unavailable: nothing was acknowledged"}},
    )
    async def send_message(message: Message) -> dict[str, str]:
        """Queue the message for a worker; answer once the broker holds it."""
        try:
            await submit(message)
        except BrokerUnavailable as error:
            raise HTTPException(UNAVAILABLE, detail=str(error), headers=RETRY_AFTER) from None
        return RECEIVED

    @app.post("/baseline/")
    async def baseline(message: Message) -> dict[str, str]:
        """Validate and answer like /send-message/, queueing nothing."""
        del message
        return RECEIVED

    @app.get(
        "/healthz",
        response_model=None,
        responses={503: {"description": "The broker is not answering"}},
    )
    async def healthz() -> dict[str, str] | JSONResponse:
        """Answer 503 while the broker is known to be away, else 200; never wait on it."""
        # A health check that waited on a frozen broker would time out itself.
        status, body = health(unavailable())
        return body if status == 200 else JSONResponse(body, status_code=status)

    return app

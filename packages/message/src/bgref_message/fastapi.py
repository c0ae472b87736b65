"""What the FastAPI fronts share: the strict ``message`` dependency, and a worker queue's front.

``Message`` reads the message with the same rules, and answers the same 422s,
in the in-process FastAPI app and in every queue's web front. ``queue_app`` is
the whole web front of a worker queue (Celery, Dramatiq, RQ, Taskiq): the
contract's three routes around the queue's own ``submit``, so that a queue's
package holds only what is its own (how it publishes, how its worker runs).
Needs FastAPI: ``bgref-message[fastapi]``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ._answer import RECEIVED, RETRY_AFTER, UNAVAILABLE, health
from ._gate import BrokerUnavailable
from ._query import MAX_LENGTH, InvalidMessage, parse_message

__all__ = ["Message", "queue_app", "strict_message"]


# `async def`: FastAPI runs a plain `def` dependency in the thread pool, a hop per
# request that would cost more than the check itself.
async def strict_message(
    request: Request,
    message: Annotated[
        str,
        Query(min_length=1, max_length=MAX_LENGTH, description="1 to 1000 characters, no NUL."),
    ],
) -> str:
    """Return the message once the raw query string also passes the strict checks."""
    # `message` is declared for the schema and for FastAPI's own 422s (missing, too
    # short, too long). FastAPI decodes it leniently, though ("%zz" kept, "%ff" turned
    # into U+FFFD, the last of repeated values wins), so the raw bytes decide what the
    # client sent; when they pass, their decoding equals `message`.
    del message
    try:
        return parse_message(request.scope["query_string"])
    except InvalidMessage as error:
        raise RequestValidationError([error.error]) from None


Message = Annotated[str, Depends(strict_message)]
"""An endpoint's validated ``message``: ``async def send(message: Message)``."""


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

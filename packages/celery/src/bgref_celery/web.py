"""The web front: FastAPI validates, acknowledges, and hands the work to Celery through Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse

from bgref_message import RECEIVED, RETRY_AFTER, UNAVAILABLE, BrokerUnavailable, health
from bgref_message.fastapi import Message

from ._celery import make_celery, publisher_transport_options
from ._lab import lab_router
from ._publisher import Publisher
from ._settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app from ``settings`` (default: read from the environment)."""
    if settings is None:
        settings = Settings.from_env()
    publisher = Publisher(
        make_celery(settings),
        publisher_transport_options(settings),
        settings.publish_deadline,
        linger=settings.publish_linger,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await publisher.start()
        try:
            yield
        finally:
            publisher.close()

    # The contract's paths are exact: a 307 to the other spelling would have the
    # client POST the message a second time, and its empty body is not JSON.
    app = FastAPI(title="send-message (Celery)", lifespan=lifespan, redirect_slashes=False)
    app.include_router(lab_router(settings))

    @app.post(
        "/send-message/",
        responses={503: {"description": "Redis is unavailable: nothing was acknowledged"}},
    )
    async def send_message(message: Message) -> dict[str, str]:
        """Queue the message for a Celery worker; answer once Redis holds it."""
        try:
            await publisher.gate.submit(message)
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
        responses={503: {"description": "Redis is not answering"}},
    )
    async def healthz() -> dict[str, str] | JSONResponse:
        """Answer 503 while Redis is known to be away, else 200; never wait on Redis."""
        # A health check that waited on a frozen Redis would time out itself.
        status, body = health(publisher.gate.unavailable())
        return body if status == 200 else JSONResponse(body, status_code=status)

    return app

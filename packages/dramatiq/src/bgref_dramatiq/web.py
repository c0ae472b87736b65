"""The web front: FastAPI validates, acknowledges once Redis holds the message, Dramatiq works."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse

from bgref_message import (
    RECEIVED,
    RETRY_AFTER,
    UNAVAILABLE,
    BrokerUnavailable,
    PartlyPublished,
    PublishGate,
    health,
)

from ._actor import declare_actor
from ._broker import make_broker
from ._message import Message
from ._settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app from ``settings`` (default: read from the environment)."""
    if settings is None:
        settings = Settings.from_env()
    broker = make_broker(settings, web=True)
    actor = declare_actor(broker, settings)

    def publish(batch: list[str]) -> None:
        # One Dramatiq message per request: Dramatiq queues one message per call
        # (one EVALSHA of its dispatch script), so a batch is a few round trips
        # from the publishing thread, and a failure says how many went out.
        for sent, message in enumerate(batch):
            try:
                actor.send(message)
            except Exception as error:
                raise PartlyPublished(sent) from error

    gate = PublishGate(publish, broker.client.ping, timeout=settings.publish_deadline)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await gate.start()
        try:
            yield
        finally:
            gate.close(release=broker.client.close)

    # The contract's paths are exact: a 307 to the other spelling would have the
    # client POST the message a second time, and its empty body is not JSON.
    app = FastAPI(title="send-message (Dramatiq)", lifespan=lifespan, redirect_slashes=False)

    @app.post(
        "/send-message/",
        responses={503: {"description": "Redis is unavailable: nothing was acknowledged"}},
    )
    async def send_message(message: Message) -> dict[str, str]:
        """Queue the message for a Dramatiq worker; answer once Redis holds it."""
        try:
            await gate.submit(message)
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
        status, body = health(gate.unavailable())
        return body if status == 200 else JSONResponse(body, status_code=status)

    return app

"""The web front: FastAPI validates, kicks the task into a Redis stream, and answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import JSONResponse

from bgref_message import RECEIVED

from ._broker import StreamBroker
from ._kicker import BrokerUnavailable, Kicker
from ._settings import Settings
from ._tasks import register_tasks
from ._validation import message_param

__all__ = ["create_app"]

Message = Annotated[str, Depends(message_param)]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app from ``settings`` (default: read from the environment)."""
    if settings is None:
        settings = Settings.from_env()
    broker = StreamBroker(settings, worker=False)
    kicker = Kicker(broker, register_tasks(broker, settings.retry_budget), settings.kick_deadline)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await kicker.start()
        try:
            yield
        finally:
            await kicker.close()

    # Exact paths: "/send-message" is a 404, not a 307 that a client would
    # follow with a second POST.
    app = FastAPI(title="send-message (Taskiq)", lifespan=lifespan, redirect_slashes=False)

    @app.post(
        "/send-message/",
        responses={503: {"description": "Redis is unavailable: nothing was acknowledged"}},
    )
    async def send_message(message: Message) -> dict[str, str]:
        """Queue the message for a Taskiq worker; answer once Redis holds it."""
        try:
            await kicker.kick(message)
        except BrokerUnavailable as error:
            raise HTTPException(503, detail=str(error), headers={"Retry-After": "1"}) from None
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
        """Answer 503 while Redis is known to be away (last ping, at most a second old)."""
        reason = kicker.unavailable()
        if reason is not None:
            return JSONResponse({"status": "unavailable", "detail": reason}, status_code=503)
        return {"status": "ok"}

    return app

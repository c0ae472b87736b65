"""The web front: FastAPI validates, acknowledges once Redis holds the job, RQ works."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse

from bgref_message import RECEIVED, RETRY_AFTER, UNAVAILABLE, BrokerUnavailable, health

from ._message import Message
from ._publisher import make_gate
from ._settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web app from ``settings`` (default: read from the environment)."""
    if settings is None:
        settings = Settings.from_env()
    gate = make_gate(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await gate.start()
        try:
            yield
        finally:
            gate.close()

    # The contract's paths are exact: a 307 to the other spelling would have the
    # client POST the message a second time, and its empty body is not JSON.
    app = FastAPI(title="send-message (RQ)", lifespan=lifespan, redirect_slashes=False)

    @app.post(
        "/send-message/",
        responses={UNAVAILABLE: {"description": "Redis is unavailable: nothing was acknowledged"}},
    )
    async def send_message(message: Message) -> dict[str, str]:
        """Queue the message as an RQ job; answer once Redis holds it."""
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
        responses={UNAVAILABLE: {"description": "Redis is not answering"}},
    )
    async def healthz() -> dict[str, str] | JSONResponse:
        """Answer 503 while Redis is known to be away, else 200; never wait on Redis."""
        status, body = health(gate.unavailable())
        return body if status == 200 else JSONResponse(body, status_code=status)

    return app

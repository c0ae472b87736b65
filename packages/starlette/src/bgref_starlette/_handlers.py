"""The exception handlers that give every error answer a JSON body."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from bgref_message import InvalidMessage

__all__ = ["http_error", "invalid_message"]


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer a routing error (404, 405) with ``{"detail": ...}``, keeping its headers."""
    assert isinstance(exc, HTTPException)
    # The headers carry the 405's Allow.
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def invalid_message(request: Request, exc: Exception) -> JSONResponse:
    """Answer an invalid message with 422 in FastAPI's shape: ``{"detail": [error]}``."""
    assert isinstance(exc, InvalidMessage)
    return JSONResponse({"detail": [exc.error]}, status_code=422)

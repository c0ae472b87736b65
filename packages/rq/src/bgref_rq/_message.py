"""The ``message`` query parameter, read strictly: a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from bgref_message import MAX_LENGTH, InvalidMessage, parse_message

__all__ = ["Message"]


async def strict_message(
    request: Request,
    message: Annotated[
        str,
        Query(min_length=1, max_length=MAX_LENGTH, description="1 to 1000 characters, no NUL."),
    ],
) -> str:
    """FastAPI dependency: the validated ``message`` of this request."""
    # FastAPI has checked (and documented) the leniently decoded value; the raw
    # query string has the last word. An async dependency runs on the event
    # loop, where a sync one would cost a thread hop per request.
    del message
    try:
        return parse_message(request.scope["query_string"])
    except InvalidMessage as error:
        raise RequestValidationError([error.error]) from None


Message = Annotated[str, Depends(strict_message)]

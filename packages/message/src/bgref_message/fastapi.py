"""The strict ``message`` as a FastAPI dependency, for every FastAPI front.

``Message`` reads the message with the same rules, and answers the same 422s,
in the in-process FastAPI app and in every queue's web front
(``bgref_message.queue.fastapi``). Needs FastAPI: ``bgref-message[fastapi]``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from ._query import MAX_LENGTH, InvalidMessage, parse_message

__all__ = ["Message", "strict_message"]


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

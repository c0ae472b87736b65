"""The worker's view of a task message: one whose body is not Celery's is rejected, not fatal.

Celery reads a protocol-2 body as ``(args, kwargs, embed)`` while it builds its
``Request``, in the worker's main process. A JSON body of another shape (an
object, a list of one) raises a plain ``ValueError`` there, which Celery does
not expect: "Unrecoverable error", the worker stops, and its unacknowledged
message goes back to the queue to stop the next worker too. A string where the
arguments belong is worse: Celery spreads it into one argument per character.
Here both are ``InvalidTaskError``, which Celery's consumer rejects and logs.
"""

from __future__ import annotations

from typing import Any

from celery.exceptions import InvalidTaskError
from celery.worker.request import Request
from kombu.exceptions import ContentDisallowed, DecodeError

__all__ = ["CheckedRequest"]


class CheckedRequest(Request):  # type: ignore[misc]  # Celery is untyped
    """A ``Request`` that raises ``InvalidTaskError`` for any body that is not Celery's."""

    def __init__(self, message: Any, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(message, *args, **kwargs)
        except (InvalidTaskError, ContentDisallowed, DecodeError):
            raise  # Celery's consumer handles these itself.
        except Exception as error:
            raise InvalidTaskError(f"not a Celery task message: {error!r}") from error
        arguments = self._request_dict.get("args")
        keywords = self._request_dict.get("kwargs")
        if not isinstance(arguments, (list, tuple)) or not isinstance(keywords, dict):
            raise InvalidTaskError(
                "task arguments should be a list and keywords a mapping, got"
                f" {type(arguments).__name__} and {type(keywords).__name__}"
            )

"""JSON bodies for the HTTP errors that werkzeug would otherwise answer in HTML."""

from __future__ import annotations

from flask import Flask, json
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

__all__ = ["register_error_handlers"]


def register_error_handlers(app: Flask) -> None:
    """Answer every HTTP error (404, 405, 500, ...) with ``{"detail": <reason>}``."""
    app.register_error_handler(HTTPException, _http_error)


def _http_error(error: HTTPException) -> Response:
    # get_response() keeps the headers the error carries, such as Allow on a 405.
    response = error.get_response()
    response.set_data(json.dumps({"detail": error.name}))
    response.content_type = "application/json"
    return response

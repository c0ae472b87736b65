"""JSON bodies for the HTTP errors that werkzeug would otherwise answer in HTML."""

from __future__ import annotations

from flask import Flask, json, request
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

__all__ = ["register_error_handlers"]


def register_error_handlers(app: Flask) -> None:
    """Answer every HTTP error (404, 405, 500, ...) with ``{"detail": <reason>}``.

    A path that werkzeug would redirect or merge (``/send-message`` to
    ``/send-message/``, ``//healthz`` to ``/healthz``) is unknown, like any
    other: a client that follows a 308 POSTs the message a second time, and the
    308's body is HTML.
    """
    app.register_error_handler(HTTPException, _http_error)
    # Werkzeug matches "//send-message/" as "/send-message/" unless told not to.
    app.url_map.merge_slashes = False
    app.before_request(_no_redirect)


def _no_redirect() -> None:
    # Routing runs before this hook, and its redirect is raised only after it
    # (Flask treats it as an answer, not an error, so no error handler sees it).
    if isinstance(request.routing_exception, RequestRedirect):
        raise NotFound()
    # Werkzeug strips the leading slashes of the path before matching it
    # (routing/map.py, MapAdapter.match), so "//send-message/" matched the route.
    if request.environ.get("PATH_INFO", "").startswith("//"):
        raise NotFound()


def _http_error(error: HTTPException) -> Response:
    # get_response() keeps the headers the error carries, such as Allow on a 405.
    response = error.get_response()
    response.set_data(json.dumps({"detail": error.name}))
    response.content_type = "application/json"
    return response

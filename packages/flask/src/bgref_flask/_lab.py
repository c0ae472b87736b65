"""The idiomatic versions, outside the contract: a thread started per request.

This is the snippet most Flask tutorials show for work after the response
(the Flask Mega-Tutorial, Part X, sends each email from its own
``Thread(target=send_async_email, ...).start()``), often with ``daemon=True`` so
that the process can exit without waiting for it. There is no bound (a burst
starts a thread per request) and no drain: a daemon thread still running when
the worker process exits is stopped where it stands (Python docs, threading:
"Daemon threads are abruptly stopped at shutdown"); a non-daemon one is joined
by the interpreter, so the worker's exit waits for it (until gunicorn's
``graceful_timeout`` SIGKILL).
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, current_app, request

from bgref_linelog import LogWriter
from bgref_message import RECEIVED, InvalidMessage, parse_message

__all__ = ["lab"]


# Routes for the comparison and the variant tests only: they answer like /send-message/.
lab = Blueprint("bgref_flask_lab", __name__, url_prefix="/lab")


def _writer() -> LogWriter:
    writer: LogWriter = current_app.extensions["bgref_flask"].writer
    return writer


def _start(daemon: bool) -> Any:
    try:
        message = parse_message(request.query_string)
    except InvalidMessage as error:
        return {"detail": [error.error]}, 422
    threading.Thread(target=_writer().write, args=(message,), daemon=daemon).start()
    return RECEIVED


@lab.post("/thread-daemon/", provide_automatic_options=False)
def thread_daemon() -> Any:
    """Start a daemon thread that writes the message; answer at once."""
    return _start(daemon=True)


@lab.post("/thread/", provide_automatic_options=False)
def thread() -> Any:
    """Start a (non-daemon) thread that writes the message; answer at once."""
    return _start(daemon=False)

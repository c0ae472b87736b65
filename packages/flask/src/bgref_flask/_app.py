"""The Flask application: validate, hand the message to a bounded pool, answer at once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from flask import Flask, request

from bgref_linelog import LogWriter
from bgref_message import RECEIVED, InvalidMessage, Trace, parse_message

from ._errors import register_error_handlers
from ._lab import lab
from ._pool import PoolClosed, QueueFull, WorkPool

__all__ = ["DEFAULT_QUEUE_SIZE", "DEFAULT_WORKERS", "create_app", "drain"]

DEFAULT_WORKERS = 4
DEFAULT_QUEUE_SIZE = 1000

# The key under which the pool and writer live in ``app.extensions``.
_EXTENSION = "bgref_flask"

_RETRY_AFTER = {"Retry-After": "1"}


@dataclass(frozen=True)
class _Background:
    """The per-process writer and the pool that runs its writes."""

    writer: LogWriter
    pool: WorkPool


def create_app() -> Flask:
    """Build the app with its own `LogWriter` and `WorkPool`, configured by environment."""
    app = Flask("bgref_flask")
    # Under gunicorn this runs once in each worker process, after the fork, so
    # every process owns its threads (threads do not survive a fork).
    writer = LogWriter()
    pool = WorkPool(
        _env_int("BGREF_WORKERS", DEFAULT_WORKERS),
        _env_int("BGREF_QUEUE_SIZE", DEFAULT_QUEUE_SIZE),
        logger=app.logger,
    )
    app.extensions[_EXTENSION] = _Background(writer, pool)
    trace = Trace.from_env()

    def hand_off(message: str) -> None:
        # write_soon: if the log path fails for a while, the line is held and
        # retried in the background (within linelog's bounds), not dropped.
        pool.submit(writer.write_soon, message)

    if trace is not None:
        # The contract suite's test aid (BGREF_TRACE, docs/contract.md): each write
        # is a job it can see from hand-off to end. Unset, nothing is wrapped.
        hand_off = trace.submitter(pool.submit)(writer.write_soon)
    register_error_handlers(app)
    app.register_blueprint(lab)

    # OPTIONS is not part of the contract: every method but POST answers 405.
    @app.post("/send-message/", provide_automatic_options=False)
    def send_message() -> Any:
        """Acknowledge a valid message and queue its write."""
        try:
            message = parse_message(request.query_string)
        except InvalidMessage as error:
            return {"detail": [error.error]}, 422
        try:
            hand_off(message)
        except (QueueFull, PoolClosed) as error:
            return {"detail": str(error)}, 503, _RETRY_AFTER
        return RECEIVED

    @app.post("/baseline/", provide_automatic_options=False)
    def baseline() -> Any:
        """Validate and answer like /send-message/, queueing nothing."""
        try:
            parse_message(request.query_string)
        except InvalidMessage as error:
            return {"detail": [error.error]}, 422
        return RECEIVED

    @app.get("/healthz")
    def healthz() -> Any:
        """Report whether the pool would take one more message and the log is writable."""
        if pool.accepting and not writer.held:
            return {"status": "ok"}
        if writer.held:
            reason = f"the log file cannot be written; {writer.held} lines held for a retry"
        elif pool.closed:
            reason = "the work pool is draining"
        else:
            reason = "the work queue is full"
        return {"status": "unavailable", "detail": reason}, 503, _RETRY_AFTER

    return app


def drain(app: Flask, timeout: float | None = None) -> int:
    """Stop taking work and wait for the queued writes; return how many are left unwritten."""
    background: _Background = app.extensions[_EXTENSION]
    if background.pool.drain(timeout):
        background.writer.close()
    return background.pool.pending


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value

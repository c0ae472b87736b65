"""The actor: re-check the payload with the web's rules, then write it."""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.middleware import CurrentMessage

from bgref_linelog import LogWriter
from bgref_message import InvalidMessage, check_message

from ._broker import ACTOR_NAME, QUEUE
from ._settings import Settings

__all__ = ["InvalidPayload", "check_payload", "declare_actor"]

logger = logging.getLogger(__name__)

# One writer per worker process, created on the first message: Dramatiq forks
# its worker processes after importing the actor module.
_writer: LogWriter | None = None


class InvalidPayload(ValueError):
    """A queued message that the web would never have accepted: dead-lettered, not retried."""


def _get_writer() -> LogWriter:
    global _writer
    if _writer is None:
        _writer = LogWriter()
    return _writer


def check_payload(args: tuple[object, ...], kwargs: dict[str, object]) -> str:
    """The message, if the payload is one the web accepts; else raise ``InvalidPayload``."""
    # Anyone who can write to Redis can queue a message: the web's rules again.
    if kwargs or len(args) != 1:
        raise InvalidPayload(f"expected one argument, got {len(args)} and {len(kwargs)} named")
    try:
        return check_message(args[0])
    except InvalidMessage as invalid:
        raise InvalidPayload(str(invalid.error["msg"])) from None


def _write_message(*args: object, **kwargs: object) -> None:
    try:
        message = check_payload(args, kwargs)
    except InvalidPayload as error:
        current = CurrentMessage.get_current_message()
        message_id = current.message_id if current is not None else "?"
        # Logged once: the actor's ``throws`` makes Dramatiq dead-letter it unretried.
        logger.warning("Refused message %s: %s", message_id, error)
        raise
    # A failed write raises bgref_linelog's LogWriteError (an OSError) with the
    # path; Dramatiq logs the traceback and retries (retry_when below).
    _get_writer().write(message)


def _retry_failed_write(retries: int, error: BaseException) -> bool:
    # A write that failed is retried until it lands: giving up would lose an
    # acknowledged message. Anything else is a bug or a bad payload: dead-lettered.
    del retries
    return isinstance(error, OSError)


def declare_actor(broker: dramatiq.Broker, settings: Settings) -> dramatiq.Actor[..., None]:
    """Declare ``write_message`` on ``broker`` and return it."""
    actor: dramatiq.Actor[..., None] = dramatiq.actor(  # type: ignore[call-overload]
        _write_message,
        actor_name=ACTOR_NAME,
        queue_name=QUEUE,
        broker=broker,
        throws=(InvalidPayload,),
        retry_when=_retry_failed_write,
        min_backoff=500,
        max_backoff=int(settings.retry_backoff_max * 1000),
    )
    return actor

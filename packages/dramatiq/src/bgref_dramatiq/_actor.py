"""The actors: re-check the payload with the web's rules, then write it.

``write_messages`` carries the messages of concurrent requests (the web's
groups, ``_publisher.py``); ``write_message`` carries one (the lab's variant,
``_lab.py``, as Dramatiq's docs send it). Anyone who can write to Redis can
queue either, so each trusts nothing the web did: a payload the web would never
send is refused whole, logged once with the message id, and dead-lettered
unretried (the actor's ``throws``). A group is written by
``bgref_message.queue.write_group``: after its slice, the rest goes back to the queue
in pieces for the other worker processes; after a failed write, the rest alone
as a delayed message.
"""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import compute_backoff
from dramatiq.middleware import CurrentMessage

from bgref_linelog import LogWriter
from bgref_message.queue import (
    MAX_GROUP,
    GroupWriteFailed,
    InvalidJob,
    check_group,
    check_one,
    job_argument,
    split,
    write_group,
)

from ._broker import ACTOR_NAME, BATCH_ACTOR_NAME, QUEUE
from ._publisher import enqueue_together
from ._settings import Settings

__all__ = ["STARTED", "InvalidPayload", "declare_actors"]

logger = logging.getLogger(__name__)

# Logged (at INFO, which Dramatiq's worker shows) as a single message's actor
# starts: the lab's variant runs it, and a fault test kills the worker process
# while it does.
STARTED = "lab task started"

# Dramatiq's Retries middleware: the first wait of a failing write, in ms.
_MIN_BACKOFF_MS = 500

# One writer per worker process, created on the first message: Dramatiq forks
# its worker processes after importing the actor module.
_writer: LogWriter | None = None


class InvalidPayload(ValueError):
    """A queued message that the web would never have sent: dead-lettered, not retried."""


def _get_writer() -> LogWriter:
    global _writer
    if _writer is None:
        _writer = LogWriter()
    return _writer


def _current_id() -> str:
    current = CurrentMessage.get_current_message()
    return current.message_id if current is not None else "?"


def _checked(args: tuple[object, ...], kwargs: dict[str, object], *, batch: bool) -> list[str]:
    """The messages, if the payload is one the web sends; else log it and raise ``InvalidPayload``.

    One positional argument: a message, or for a batch a non-empty list of at
    most ``MAX_GROUP``. One bad message refuses the whole batch: the web never
    sends one.
    """
    try:
        value = job_argument(args, kwargs)
        return check_group(value, most=MAX_GROUP) if batch else [check_one(value)]
    except InvalidJob as error:
        # Logged once: the actor's ``throws`` makes Dramatiq dead-letter it unretried.
        logger.warning("Refused message %s: %s", _current_id(), error)
        raise InvalidPayload(str(error)) from None


class _Actors:
    """The two actors' bodies, bound to the settings of this worker (or web) process."""

    def __init__(self, broker: RedisBroker, settings: Settings) -> None:
        self._broker = broker
        # The worker threads in all processes: how many pieces a slow group is cut into.
        self._workers = settings.workers * settings.threads
        self._max_backoff_ms = int(settings.retry_backoff_max * 1000)
        self.batch: dramatiq.Actor[..., None] | None = None

    def write_message(self, *args: object, **kwargs: object) -> None:
        [message] = _checked(args, kwargs, batch=False)
        logger.info(STARTED)
        # A failed write raises bgref_linelog's LogWriteError (an OSError) with
        # the path; Dramatiq logs the traceback and retries it (retry_when).
        _get_writer().write(message)

    def write_messages(self, *args: object, **kwargs: object) -> None:
        """Write each message as one line, in order; hand off or retry only the rest."""
        messages = _checked(args, kwargs, batch=True)
        writer = _get_writer()
        try:
            write_group(messages, writer.write, self._hand_off)
        except GroupWriteFailed as failed:
            # Nothing written yet, or the rest not queued: Dramatiq's Retries
            # runs this message again, whole (after its first failure, then,
            # at most the group written twice).
            if not failed.written or not self._retry_rest(failed, writer.path):
                raise

    def _hand_off(self, rest: list[str]) -> bool:
        """Queue ``rest`` in pieces for the other workers; False if Redis did not take them."""
        assert self.batch is not None
        try:
            # All or nothing (MULTI/EXEC): a piece queued and another not would
            # be written twice, here and by another worker.
            enqueue_together(
                self._broker, [self.batch.message(piece) for piece in split(rest, self._workers)]
            )
        except Exception:
            logger.warning(
                "Could not hand off %d messages; writing them here", len(rest), exc_info=True
            )
            return False
        return True

    def _retry_rest(self, failed: GroupWriteFailed, path: object) -> bool:
        """Queue the messages not yet written as a new, delayed message; False if Redis refused."""
        # Dramatiq's Retries would run this message again with the same arguments,
        # writing its first messages twice: the rest goes as a message of its own,
        # with the backoff and retry count that Retries would have given it.
        assert self.batch is not None
        current = CurrentMessage.get_current_message()
        retries = int(current.options.get("retries", 0)) if current is not None else 0
        _, delay = compute_backoff(
            retries, factor=_MIN_BACKOFF_MS, max_backoff=self._max_backoff_ms
        )
        # The traceback names the log path.
        logger.error(
            "Writing to %s failed (attempt %d, %d messages left); retrying them in %d ms",
            path,
            retries + 1,
            len(failed.rest),
            delay,
            exc_info=failed.error,
        )
        # A worker that dies between this send and its ack gets the group back
        # after the heartbeat timeout, the rest being queued as well: at most
        # the group written twice.
        try:
            self.batch.send_with_options(args=(failed.rest,), delay=delay, retries=retries + 1)
        except Exception:
            logger.warning("Could not queue the %d messages left", len(failed.rest), exc_info=True)
            return False
        return True


def _retry_failed_write(retries: int, error: BaseException) -> bool:
    # A write that failed is retried until it lands: giving up would lose an
    # acknowledged message (a group's, raised as GroupWriteFailed when none of
    # it was written or its rest could not be queued). Anything else is a bug
    # or a bad payload: dead-lettered.
    del retries
    return isinstance(error, (OSError, GroupWriteFailed))


def declare_actors(
    broker: RedisBroker, settings: Settings
) -> tuple[dramatiq.Actor[..., None], dramatiq.Actor[..., None]]:
    """Declare ``write_messages`` and ``write_message`` on ``broker``; return them in order."""
    bodies = _Actors(broker, settings)
    options = {
        "queue_name": QUEUE,
        "broker": broker,
        "throws": (InvalidPayload,),
        "retry_when": _retry_failed_write,
        "min_backoff": _MIN_BACKOFF_MS,
        "max_backoff": int(settings.retry_backoff_max * 1000),
    }
    batch: dramatiq.Actor[..., None] = dramatiq.actor(  # type: ignore[call-overload]
        bodies.write_messages, actor_name=BATCH_ACTOR_NAME, **options
    )
    single: dramatiq.Actor[..., None] = dramatiq.actor(  # type: ignore[call-overload]
        bodies.write_message, actor_name=ACTOR_NAME, **options
    )
    bodies.batch = batch
    return batch, single

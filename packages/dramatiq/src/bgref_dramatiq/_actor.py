"""The actors: re-check the payload with the web's rules, then write it.

``write_messages`` carries the messages of concurrent requests (the web's
groups, ``_publisher.py``); ``write_message`` carries one (the lab's variant,
``_lab.py``, as Dramatiq's docs send it). Anyone who can write to Redis can
queue either, so each trusts nothing the web did: a payload the web would never
send is refused whole, logged once with the message id, and dead-lettered
unretried (the actor's ``throws``).
"""

from __future__ import annotations

import logging
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import compute_backoff
from dramatiq.middleware import CurrentMessage

from bgref_linelog import LogWriter
from bgref_message import InvalidMessage, check_message

from ._broker import ACTOR_NAME, BATCH_ACTOR_NAME, QUEUE
from ._publisher import enqueue_together
from ._settings import Settings

__all__ = ["STARTED", "InvalidPayload", "check_payload", "declare_actors"]

logger = logging.getLogger(__name__)

# Logged (at INFO, which Dramatiq's worker shows) as a single message's actor
# starts: the lab's variant runs it, and a fault test kills the worker process
# while it does.
STARTED = "lab task started"

# After this long on one group (slow writes), the rest goes back to the queue
# for the other worker processes, as bgref_celery's write_messages does.
_SLICE = 0.2
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


def check_payload(
    args: tuple[object, ...], kwargs: dict[str, object], *, batch: bool = False
) -> list[str]:
    """The messages, if the payload is one the web sends; else raise ``InvalidPayload``.

    One positional argument: a message, or for a batch a non-empty list of them.
    One bad message refuses the whole batch: the web never sends one.
    """
    if kwargs or len(args) != 1:
        raise InvalidPayload(f"expected one argument, got {len(args)} and {len(kwargs)} named")
    (value,) = args
    if not batch:
        values: list[object] = [value]
    elif isinstance(value, list) and value:
        values = value
    else:
        raise InvalidPayload(f"expected a non-empty list of messages, got {type(value).__name__}")
    try:
        return [check_message(item) for item in values]
    except InvalidMessage as invalid:
        raise InvalidPayload(str(invalid.error["msg"])) from None


def _current_id() -> str:
    current = CurrentMessage.get_current_message()
    return current.message_id if current is not None else "?"


def _checked(args: tuple[object, ...], kwargs: dict[str, object], *, batch: bool) -> list[str]:
    try:
        return check_payload(args, kwargs, batch=batch)
    except InvalidPayload as error:
        # Logged once: the actor's ``throws`` makes Dramatiq dead-letter it unretried.
        logger.warning("Refused message %s: %s", _current_id(), error)
        raise


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
        started = time.monotonic()
        for done, message in enumerate(messages):
            if (
                done
                and len(messages) - done > 1
                and time.monotonic() - started > _SLICE
                and self._hand_off(messages[done:])
            ):
                return
            try:
                writer.write(message)
            except OSError:
                # Nothing written yet, or the rest not queued: Dramatiq's Retries
                # runs this message again, whole (after its first failure, then,
                # at most the group written twice).
                if not done or not self._retry_rest(messages[done:], writer.path):
                    raise
                return

    def _hand_off(self, rest: list[str]) -> bool:
        """Queue ``rest`` in pieces for the other workers; False if Redis did not take them."""
        # A group is cheap to write when writes are fast; when they are slow, one
        # process writing it all would leave the others idle.
        assert self.batch is not None
        pieces = max(1, min(len(rest), self._workers))
        size = -(-len(rest) // pieces)
        try:
            # All or nothing (MULTI/EXEC): a piece queued and another not would
            # be written twice, here and by another worker.
            enqueue_together(
                self._broker,
                [self.batch.message(rest[i : i + size]) for i in range(0, len(rest), size)],
            )
        except Exception:
            logger.warning(
                "Could not hand off %d messages; writing them here", len(rest), exc_info=True
            )
            return False
        return True

    def _retry_rest(self, rest: list[str], path: object) -> bool:
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
        logger.exception(
            "Writing to %s failed (attempt %d, %d messages left); retrying them in %d ms",
            path,
            retries + 1,
            len(rest),
            delay,
        )
        # A worker that dies between this send and its ack gets the group back
        # after the heartbeat timeout, the rest being queued as well: at most
        # the group written twice.
        try:
            self.batch.send_with_options(args=(rest,), delay=delay, retries=retries + 1)
        except Exception:
            logger.warning("Could not queue the %d messages left", len(rest), exc_info=True)
            return False
        return True


def _retry_failed_write(retries: int, error: BaseException) -> bool:
    # A write that failed is retried until it lands: giving up would lose an
    # acknowledged message. Anything else is a bug or a bad payload: dead-lettered.
    del retries
    return isinstance(error, OSError)


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

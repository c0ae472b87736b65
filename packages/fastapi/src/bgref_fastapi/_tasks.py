"""The background task that writes one acknowledged message."""

from __future__ import annotations

import logging

from linelog import LogWriter

__all__ = ["write_message"]

logger = logging.getLogger(__name__)


async def write_message(writer: LogWriter, message: str) -> None:
    """Write one acknowledged message; log a failure, since the client already got 200."""
    try:
        # Async on purpose: awrite's write is a microsecond-scale inline os.write, so
        # the task runs on the event loop, where a sync task would cost a thread hop.
        await writer.awrite(message)
    except Exception:
        # Left to propagate, the error would reach uvicorn, which logs it but also
        # closes the keep-alive connection, under the client's next request. The
        # traceback names the log path; the message itself stays out of the log.
        logger.exception("could not write an acknowledged message")

"""The background task that writes one acknowledged message."""

from __future__ import annotations

import logging

from bgref_linelog import LogWriter
from bgref_message import work_started

__all__ = ["write_message"]

logger = logging.getLogger(__name__)


async def write_message(writer: LogWriter, message: str) -> None:
    """Write one acknowledged message; log a failure, since the client already got 200."""
    # BGREF_TRACE's "work" (a context variable lookup when the trace is off).
    work_started()
    try:
        # Async on purpose: a sync task would cost a thread hop. awrite_soon
        # queues the line, and the lines of one event-loop iteration go out in
        # one os.write: a system call per message costs about a tenth of the
        # throughput (compare/benchmarks/background_cost.py). A write that fails
        # for a reason that may pass (the path briefly a directory, a full disk)
        # is held and retried by linelog within its bounds; it logs the rest.
        await writer.awrite_soon(message)
    except Exception:
        # Left to propagate, the error would reach uvicorn, which logs it but also
        # closes the keep-alive connection, under the client's next request. The
        # traceback names the log path; the message itself stays out of the log.
        logger.exception("could not write an acknowledged message")

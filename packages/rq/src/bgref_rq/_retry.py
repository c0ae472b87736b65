"""How a failed job is retried: at once, then with backoff through RQ's scheduler."""

from __future__ import annotations

from rq import Retry

__all__ = ["RETRY"]

# A failed job is retried while it has retries left: a write that failed (an
# unwritable log), and a job whose worker died (AbandonedJobError, from the
# started-job registry or the intermediate list). The first retry is at once,
# so that a dead worker's job does not wait for RQ's scheduler as well; the
# later ones back off to a minute, about 14 minutes in all, through RQ's
# scheduler, which the pool runs (``MessagePool``). RQ takes the interval of
# a retry by how many are left, from the end of the list, so the list is as
# long as the retries.
_BACKOFF = [0, 1, 2, 4, 8, 16, 32, *[60] * 13]
RETRY = Retry(max=len(_BACKOFF), interval=_BACKOFF)

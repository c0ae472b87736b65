"""The signature of an implementation's ``raw_push`` (``Impl.raw_push``), stated once.

Each queue implementation keeps its own wire format in its package
(``bgref_celery._wire`` and its siblings); what they share is how the
trust-boundary tests call them, which is this. Standard library only.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["RawPush"]


class RawPush(Protocol):
    """Queue one job straight into the broker's Redis, as a local client could; return its id.

    ``args`` and ``kwargs`` are the job's arguments as the queue's format holds
    them. The job names ``task`` if given; else, with ``group``, the task that
    writes a group (what the web queues: ``args`` then holds the list); else
    the task that writes one message. ``encoding`` is ``"json"`` (the queue's
    own format), ``"pickle"``, ``"undecodable"``, ``"malformed"`` or
    ``"garbage"`` (``docs/adding-an-implementation.md``). The id returned is
    what the worker's log names the job by.
    """

    def __call__(
        self,
        redis_url: str,
        args: Any = (),
        kwargs: Any = None,
        *,
        task: str | None = None,
        group: bool = False,
        encoding: str = "json",
    ) -> str:
        """Queue the job; return its id."""
        ...

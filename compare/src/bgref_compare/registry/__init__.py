"""The implementations of the send-message contract, declared as data in one place.

The contract suite, the nox sessions and the comparison harness all read this
package, so it must stay importable with the standard library alone (nox loads
it by path from outside any project environment, its modules by relative import).
What an entry declares is ``_schema.py``; each implementation's entry is a module
of its own (``_fastapi.py`` and its siblings), so adding one is adding a module
and naming its entry in ``IMPLS`` below.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._celery import CELERY
from ._dramatiq import DRAMATIQ
from ._fastapi import FASTAPI
from ._flask import FLASK
from ._rawpush import RawPush
from ._rq import RQ
from ._schema import (
    ANSWER_WAITS,
    FAULTS,
    GC,
    SIGTERM,
    STRIKES,
    TASK_ERROR,
    USE_AFTER_CLEANUP,
    WORKER_CHILD_SIGKILL,
    Impl,
    Model,
    Process,
    SlowGroups,
    Variant,
)
from ._starlette import STARLETTE
from ._taskiq import TASKIQ

__all__ = [
    "ANSWER_WAITS",
    "FAULTS",
    "GC",
    "IMPLS",
    "IMPL_IDS",
    "SIGTERM",
    "STRIKES",
    "TASK_ERROR",
    "USE_AFTER_CLEANUP",
    "WORKER_CHILD_SIGKILL",
    "Impl",
    "Model",
    "Process",
    "RawPush",
    "SlowGroups",
    "Variant",
    "get",
    "order",
    "representatives",
    "simplest",
]

# The entries, one module each, in the order of tables and charts.
IMPLS: tuple[Impl, ...] = (
    FASTAPI,
    STARLETTE,
    FLASK,
    CELERY,
    RQ,
    TASKIQ,
    DRAMATIQ,
)

IMPL_IDS: tuple[str, ...] = tuple(impl.id for impl in IMPLS)


def order(impl_id: str) -> int:
    """Where ``impl_id`` comes in tables and charts: the registry's order, unknown ids last."""
    return IMPL_IDS.index(impl_id) if impl_id in IMPL_IDS else len(IMPL_IDS)


def get(impl_id: str) -> Impl:
    """Return the implementation registered under ``impl_id``."""
    for impl in IMPLS:
        if impl.id == impl_id:
            return impl
    raise KeyError(f"unknown implementation {impl_id!r}; known: {', '.join(IMPL_IDS)}")


def simplest() -> Impl:
    """The cheapest implementation to start: one process, no broker.

    What ``compare/tests/test_new_implementation.py`` copies under a new id and
    runs the whole smoke comparison over; the smoke session leaves it out.
    """
    return next(i for i in IMPLS if len(i.processes) == 1 and not i.needs_redis)


def representatives(impls: Sequence[Impl], count: int) -> list[Impl]:
    """The first ``count`` of ``impls``, one of each model first (0: every one).

    What a short run measures when it cannot measure everything: an event loop,
    a thread pool and a worker queue before a second of any, in registry order.
    """
    if not count:
        return list(impls)
    firsts: dict[str, Impl] = {}
    for impl in impls:
        firsts.setdefault(impl.model, impl)
    chosen = list(firsts.values())
    return [*chosen, *(i for i in impls if i not in chosen)][:count]

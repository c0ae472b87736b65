"""A test aid: when the work ran relative to the answer, and when none is in flight.

With ``BGREF_TRACE=<path>`` set, an implementation appends one line per event
to that file: ``<event> <key>``, ``key`` naming one request (or one unit of
work) as ``<pid>-<n>``. Each line is one ``os.write`` on a descriptor opened
with ``O_APPEND``, so processes can share the file and its order is the order
in which the events happened. Unset (the default), nothing is installed: no
middleware, no wrapper, and the one hook left on the hot path
(``work_started``) is a context variable lookup.

The events, as docs/contract.md (Test trace) lists them:

- ``open`` / ``close``: a unit of work is in flight (an ASGI call, whose
  background tasks run before it returns; or a job handed to a pool). The
  contract suite waits until every ``open`` has its ``close`` before it checks
  that nothing was written: the implementation's own measure of idle, which
  does not assume that work is done in the order it came.
- ``answered``: the answer's last body chunk was handed to the server.
- ``work``: the background work of that request started.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any, Final, ParamSpec

__all__ = ["TRACE_ENV", "Trace", "TraceMiddleware", "work_started"]

TRACE_ENV: Final = "BGREF_TRACE"

_P = ParamSpec("_P")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The trace and key of the request whose ASGI call is running: its background
# tasks run inside that call, so they see it too.
_CURRENT: ContextVar[tuple[Trace, str] | None] = ContextVar("bgref_trace", default=None)


class Trace:
    """Appends events to the trace file of this process (see the module docstring)."""

    def __init__(self, path: str) -> None:
        # Opened by each process that makes one (under gunicorn, after the fork).
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._numbers = itertools.count()
        self._pid = os.getpid()

    @classmethod
    def from_env(cls) -> Trace | None:
        """The trace that ``BGREF_TRACE`` names, or None when it is unset or empty."""
        path = os.environ.get(TRACE_ENV, "").strip()
        return cls(path) if path else None

    def key(self) -> str:
        """A key no other request or job of any process has."""
        return f"{self._pid}-{next(self._numbers)}"

    def record(self, event: str, key: str) -> None:
        """Append ``<event> <key>`` as one line, in one system call."""
        os.write(self._fd, f"{event} {key}\n".encode())

    def submitter(
        self, submit: Callable[[Callable[[], None]], None]
    ) -> Callable[[Callable[_P, object]], Callable[_P, None]]:
        """Wrap a pool's ``submit``: each job is ``open`` from its hand-off to its end.

        ``trace.submitter(submit)(fn)(*args)`` submits ``fn(*args)``, recording ``open``
        before the hand-off, ``work`` when a pool thread starts it and ``close``
        when it ends, or at once if the pool refuses it.
        """

        def bind(fn: Callable[_P, object]) -> Callable[_P, None]:
            def hand_off(*args: _P.args, **kwargs: _P.kwargs) -> None:
                key = self.key()
                self.record("open", key)

                def job() -> None:
                    self.record("work", key)
                    try:
                        fn(*args, **kwargs)
                    finally:
                        self.record("close", key)

                try:
                    submit(job)
                except BaseException:
                    self.record("close", key)
                    raise

            return hand_off

        return bind


class TraceMiddleware:
    """Records ``open``, ``answered`` and ``close`` for every HTTP call of an ASGI app."""

    def __init__(self, app: ASGIApp, trace: Trace) -> None:
        self.app = app
        self.trace = trace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace = self.trace
        key = trace.key()

        async def traced_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                trace.record("answered", key)

        trace.record("open", key)
        token = _CURRENT.set((trace, key))
        try:
            # Starlette runs a response's background tasks inside this call,
            # after the last body chunk: the call ends when they have.
            await self.app(scope, receive, traced_send)
        finally:
            _CURRENT.reset(token)
            trace.record("close", key)


def work_started() -> None:
    """Record ``work`` for the request being served, if it is traced."""
    current = _CURRENT.get()
    if current is not None:
        trace, key = current
        trace.record("work", key)

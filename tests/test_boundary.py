"""The trust boundary: what a local client pushes straight into the queue is checked again.

The web validates every message, but anyone who can reach the broker's Redis
can queue a job without it. Each bad job below goes in raw, in the queue's own
wire format (the implementation's ``raw_push``, named in the registry), and the
worker must drop it, log it, and keep consuming; no pickle ever runs. So must
it a group job (what the web queues) with one bad message among good ones, or
more messages than the web sends where the registry says the worker refuses
them (``refuses_larger_jobs``). The jobs are declared once here, as data; an
implementation with a broker adds only its ``raw_push``.
"""

from __future__ import annotations

import builtins
import importlib
import pickle
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import pytest

from bgref_compare import Impl, RedisReplyError, RedisServer, Stack, redis_call, wait_until
from bgref_compare.registry import RawPush

from ._faults import describe, require_broker
from ._helpers import http_client, logged, send, token, wait_for_messages

pytestmark = pytest.mark.faults

SETTLE = 30.0
VALID = 5
_TAG = token()


class _CreatesFile:
    """Unpickling this creates ``path``: the proof that pickled code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return builtins.open, (str(self.path), "w")


@dataclass(frozen=True)
class Bad:
    """One job that the web would never queue, as ``raw_push`` takes it."""

    name: str
    args: Any = ()
    kwargs: Any = None
    task: str | None = None
    encoding: str = "json"


# Messages the web refuses, as a job's argument or inside a group. Each string
# carries the run's tag, so that a bad job written would show in the log.
BAD_MESSAGES = {
    "100,000 characters": _TAG + "x" * (100_000 - len(_TAG)),
    "a NUL": f"{_TAG}\x00after",
    "empty": "",
    "a list": [_TAG, _TAG],
    "a number": 42,
    "an object": {"message": _TAG},
}

BAD = (
    *(Bad(name, [message]) for name, message in BAD_MESSAGES.items()),
    Bad("an unknown task", [_TAG], task="bgref.no_such_task"),
    Bad("no argument", []),
    Bad("two arguments", [_TAG, _TAG]),
    Bad("a keyword argument", [_TAG], {"message": _TAG}),
    # A string where the argument list belongs: spread into one argument per
    # character, "x" would be a valid message.
    Bad("arguments as a string", "x"),
    Bad("keywords as a list", [_TAG], [_TAG]),
    Bad("an undecodable body", encoding="undecodable"),
    Bad("a body not in the queue's structure", encoding="malformed"),
    Bad("an entry not in the queue's format", encoding="garbage"),
)


def _raw_push(impl: Impl) -> RawPush:
    """The implementation's raw push: the "module:function" named in its registry entry."""
    require_broker(impl)
    assert impl.raw_push is not None, (
        f"{impl.id} has a broker but no raw_push in its registry entry"
        " (docs/adding-an-implementation.md)"
    )
    module, _, name = impl.raw_push.partition(":")
    push: RawPush = getattr(importlib.import_module(module), name)
    return push


def _send_valid(stack: Stack, label: str) -> list[str]:
    messages = [f"{label} {token()} {n}" for n in range(VALID)]
    with http_client(stack.base_url) as client:
        for message in messages:
            assert send(client, message).status_code == 200
    return messages


def _check_dropped(
    stack: Stack, before: Counter[str], ids: dict[str, str], pushed: Sequence[str] = ()
) -> None:
    """Every job in ``ids`` logged and never again; the log gained only valid messages.

    ``before`` is the log before the jobs were pushed; ``pushed`` the valid
    messages pushed with them, which must be written once each, like those
    this sends over HTTP after them.
    """
    valid = _send_valid(stack, "after the bad jobs")
    wait_for_messages(stack, [*pushed, *valid], SETTLE)

    def unlogged() -> list[str]:
        output = stack.output()
        return [name for name, job in ids.items() if job not in output]

    assert wait_until(lambda: not unlogged(), SETTLE), (
        f"never logged: {unlogged()}\n{describe(stack)}"
    )
    reports = {name: stack.output().count(job) for name, job in ids.items()}
    # The queue is first in, first out: once these are written, any bad job put
    # back for another try has had its turn too.
    again = _send_valid(stack, "after the reports")
    wait_for_messages(stack, again, SETTLE)
    retried = {name: n for name, n in reports.items() if stack.output().count(ids[name]) != n}
    assert not retried, f"reported again (retried): {retried}\n{describe(stack)}"
    added = Counter(logged(stack)) - before
    assert added == Counter([*pushed, *valid, *again]), (
        f"written besides the valid messages, or not once each: {added}"
    )
    exited = [name for name, proc in stack.processes.items() if not proc.running]
    assert not exited, f"{exited} stopped\n{describe(stack)}"


def test_bad_jobs_pushed_into_the_queue_are_dropped_logged_and_never_run(
    impl: Impl, fault_stack: Stack, tmp_path: Path
) -> None:
    """Bad jobs: none written, each logged and not retried; valid ones after them written once."""
    push = _raw_push(impl)
    stack = fault_stack
    url = stack.env["REDIS_URL"]
    # The pickle is live: unpickled, it creates its file.
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_CreatesFile(control))).close()
    assert control.exists()
    marker = tmp_path / "pickle-ran"

    before = Counter(logged(stack))
    ids = {
        bad.name: push(url, bad.args, bad.kwargs, task=bad.task, encoding=bad.encoding)
        for bad in BAD
    }
    ids["a pickle"] = push(url, [_CreatesFile(marker)], encoding="pickle")
    _check_dropped(stack, before, ids)
    assert not marker.exists(), "the pickled job's code ran"


def test_a_group_with_one_bad_message_is_dropped_whole_logged_and_never_retried(
    impl: Impl, fault_stack: Stack
) -> None:
    """A group job, as the web queues it, with one bad message among good ones: none written.

    The good messages of such a group are not written either (one bad message
    refuses the group, since the web never sends one), nor is any message of
    a group longer than the web's longest, where the worker declares it
    refuses one. A valid group pushed the same way is written once: the
    groups above reached the worker that writes groups.
    """
    push = _raw_push(impl)
    if impl.messages_per_job < 2:
        pytest.skip(f"{impl.id} queues one message per job: it has no group to push")
    stack = fault_stack
    url = stack.env["REDIS_URL"]
    groups = {
        f"a group with {name}": [f"{_TAG} before", message, f"{_TAG} after"]
        for name, message in BAD_MESSAGES.items()
    }
    if impl.refuses_larger_jobs:
        longest = impl.messages_per_job
        groups[f"a group of {longest + 1}, one more than the web sends"] = [
            f"{_TAG} {n}" for n in range(longest + 1)
        ]
    valid_group = [f"a raw group {token()} {n}" for n in range(VALID)]

    before = Counter(logged(stack))
    ids = {name: push(url, [group], group=True) for name, group in groups.items()}
    push(url, [valid_group], group=True)
    _check_dropped(stack, before, ids, pushed=valid_group)


def test_the_private_redis_refuses_a_client_without_the_password(
    impl: Impl, redis: tuple[str, RedisServer | None] | None, fault_stack: Stack
) -> None:
    """The suite's own Redis: no PING without the password, which no command line shows."""
    require_broker(impl)
    assert redis is not None
    url, server = redis
    if server is None:
        pytest.skip("REDIS_URL names a server that the suite did not start: used as it is")
    parts = urlsplit(url)
    assert parts.password, "the private Redis has no password in its URL"
    anonymous = parts._replace(netloc=f"{parts.hostname}:{parts.port}").geturl()
    with pytest.raises(RedisReplyError, match="NOAUTH"):
        redis_call(anonymous, "PING")
    assert redis_call(fault_stack.env["REDIS_URL"], "PING") == "PONG"
    # Command lines are world-readable (ps); the stack's output goes to logs.
    for proc in [server.process, *fault_stack.processes.values()]:
        assert server.password not in " ".join(psutil.Process(proc.pid).cmdline())
    assert server.password not in fault_stack.output()

"""A raw Redis client (RESP over a socket) and the broker-idle check, for tests and the harness.

The contract suite runs in the environment of one implementation, which may have
no Redis client library; the harness uses the same client, so that there is one.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from bgref_compare.registry import Impl

__all__ = ["RedisReplyError", "broker_idle", "redis_call"]


def broker_idle(url: str, impl: Impl) -> bool:
    """Whether the broker holds no unfinished message (the registry's ``broker_backlog``)."""
    try:
        return all(redis_call(url, *command) in (0, []) for command in impl.broker_backlog)
    except (OSError, RedisReplyError):
        return False


class RedisReplyError(RuntimeError):
    """Redis answered a command with an error."""


def redis_call(url: str, *command: str | bytes, timeout: float = 5.0) -> object:
    """Run one command on the Redis that ``url`` names (its password and database too).

    Plain RESP over a socket: the test environment of an implementation without
    a broker has no Redis client library.
    """
    parts = urlsplit(url)
    setup: list[tuple[str | bytes, ...]] = []
    if parts.password is not None:
        setup.append(("AUTH", unquote(parts.password)))
    database = parts.path.strip("/")
    if database:
        setup.append(("SELECT", database))
    with (
        socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout
        ) as sock,
        sock.makefile("rb") as stream,
    ):
        for step in (*setup, command):
            sock.sendall(_encode(step))
            reply = _read_reply(stream)
        return reply


def _encode(command: Sequence[str | bytes]) -> bytes:
    out = [f"*{len(command)}\r\n".encode()]
    for arg in command:
        data = arg.encode() if isinstance(arg, str) else arg
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read_reply(stream: io.BufferedReader) -> object:
    line = stream.readline()
    if not line:
        raise RedisReplyError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisReplyError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else stream.read(size + 2)[:-2]
    if kind == b"*":
        size = int(rest)
        return None if size < 0 else [_read_reply(stream) for _ in range(size)]
    raise RedisReplyError(f"unexpected reply {line!r}")

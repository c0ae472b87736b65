"""Raw Redis for the tests: is the Celery broker idle, and one command at a time.

Plain RESP over a socket: the test environment of an implementation without a
broker has no Redis client library.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

__all__ = ["PROCESSING_PREFIX", "QUEUE", "RedisReplyError", "broker_idle", "redis_call"]

# The queue that the workers consume, as kombu names it in Redis, and the prefix
# of the lists that a worker takes messages into before it records them.
QUEUE = "celery"
PROCESSING_PREFIX = "bgref.processing:"


def broker_idle(url: str) -> bool:
    """Whether the Celery queue in Redis is empty and no message is held by a consumer."""
    # kombu's names for the default queue and for messages delivered but not
    # acknowledged; and the lists that messages pass through on their way there.
    try:
        return (
            redis_call(url, "LLEN", QUEUE) == 0
            and redis_call(url, "HLEN", "unacked") == 0
            and redis_call(url, "KEYS", f"{PROCESSING_PREFIX}*") == []
        )
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

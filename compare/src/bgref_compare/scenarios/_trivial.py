"""A trivial HTTP server answering every request with a fixed 200, to measure the load generator.

It runs as ``python -m bgref_compare.scenarios._trivial --port N [--cpu C]`` and does as
little as an HTTP/1.1 keep-alive server can: find the end of each request head
and write a canned answer. Whatever rate the load generator reaches against it
is a lower bound of the generator's own capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import cast

__all__ = ["ANSWER", "TrivialProtocol", "main"]

_BODY = b'{"message": "Message received"}'
ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
    len(_BODY),
    _BODY,
)


class TrivialProtocol(asyncio.Protocol):
    """Answer each request head (requests carry no body here) with ``ANSWER``."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buf = self._buf + data
        heads = buf.count(b"\r\n\r\n")
        if heads and self._transport is not None:
            self._transport.write(ANSWER * heads)
            buf = buf[buf.rfind(b"\r\n\r\n") + 4 :]
        self._buf = buf


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(TrivialProtocol, "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"trivial server on 127.0.0.1:{port}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(args.port))
    else:
        uvloop.run(_serve(args.port))


if __name__ == "__main__":
    main()

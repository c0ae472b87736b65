"""A minimal HTTP/1.1 request builder and incremental response parser for the load generator."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["HTTPParseError", "RequestTemplate", "Response", "ResponseParser", "post_request"]

_MAX_HEAD = 64 * 1024


class HTTPParseError(ValueError):
    """The server sent something that is not an HTTP/1.x response."""


@dataclass(frozen=True)
class Response:
    """One parsed response: what the harness needs of it and nothing more."""

    status: int
    body: bytes
    # The server will close the connection after this response.
    close: bool


def post_request(host: str, path: str, message: str) -> bytes:
    """Encode ``POST path?message=...`` with an empty body, keeping the connection alive."""
    target = f"{path}?message={quote(message, safe='')}"
    return f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode("latin-1")


class RequestTemplate:
    """Pre-encoded ``POST path?message=<prefix><suffix>`` requests, built fast in the hot loop.

    The prefix and suffixes must need no percent-encoding (letters, digits, ``-``).
    """

    def __init__(self, host: str, path: str, prefix: str) -> None:
        if quote(prefix, safe="") != prefix:
            raise ValueError(f"message prefix {prefix!r} needs encoding")
        self._head = f"POST {path}?message={prefix}".encode("ascii")
        self._tail = f" HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode("ascii")

    def __call__(self, suffix: int) -> bytes:
        """The request whose message is the prefix followed by ``suffix``."""
        return b"%s%d%s" % (self._head, suffix, self._tail)


class ResponseParser:
    """Feed bytes as they arrive; get back every response that is complete.

    Bodies are framed by ``Content-Length``, ``Transfer-Encoding: chunked``, or
    (without either) the end of the connection, signalled with ``feed_eof``.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._head: tuple[int, bool] | None = None  # (status, close) of the response in progress
        self._length: int | None = None  # None: read until EOF
        self._chunked = False
        self._chunks = bytearray()

    @property
    def idle(self) -> bool:
        """Whether no partial response is buffered."""
        return self._head is None and not self._buf

    def feed(self, data: bytes) -> list[Response]:
        """Add received bytes; return the responses they complete, in order."""
        self._buf += data
        done: list[Response] = []
        while True:
            if self._head is None and not self._parse_head():
                return done
            response = self._parse_chunked() if self._chunked else self._parse_sized()
            if response is None:
                return done
            done.append(response)

    def feed_eof(self) -> Response | None:
        """The peer closed the connection: complete a response whose body ran to EOF."""
        if self._head is not None and self._length is None and not self._chunked:
            status, _ = self._head
            body = bytes(self._buf)
            self._buf.clear()
            self._head = None
            return Response(status, body, close=True)
        return None

    def _parse_head(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > _MAX_HEAD:
                raise HTTPParseError("response head too large")
            return False
        lines = bytes(self._buf[:end]).split(b"\r\n")
        del self._buf[: end + 4]
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise HTTPParseError(f"bad status line {lines[0]!r}")
        status = int(parts[1])
        close = parts[0] == b"HTTP/1.0"
        length: int | None = None
        chunked = False
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise HTTPParseError(f"bad header line {line!r}")
            key = name.strip().lower()
            value = value.strip()
            if key == b"content-length":
                if not value.isdigit():
                    raise HTTPParseError(f"bad Content-Length {value!r}")
                length = int(value)
            elif key == b"transfer-encoding":
                chunked = value.lower().endswith(b"chunked")
            elif key == b"connection":
                tokens = {t.strip() for t in value.lower().split(b",")}
                if b"close" in tokens:
                    close = True
                elif b"keep-alive" in tokens:
                    close = False
        # 1xx, 204 and 304 have no body whatever the headers say.
        if status < 200 or status in (204, 304):
            length, chunked = 0, False
        if length is None and not chunked:
            close = True  # the body runs to the end of the connection
        self._head = (status, close)
        self._chunked = chunked
        self._length = length
        return True

    def _finish(self, body: bytes) -> Response:
        assert self._head is not None
        status, close = self._head
        self._head = None
        self._chunked = False
        self._length = None
        return Response(status, body, close)

    def _parse_sized(self) -> Response | None:
        if self._length is None:
            return None  # runs until EOF
        if len(self._buf) < self._length:
            return None
        body = bytes(self._buf[: self._length])
        del self._buf[: self._length]
        return self._finish(body)

    def _parse_chunked(self) -> Response | None:
        while True:
            end = self._buf.find(b"\r\n")
            if end < 0:
                return None
            size_field = bytes(self._buf[:end]).split(b";", 1)[0].strip()
            try:
                size = int(size_field, 16)
            except ValueError:
                raise HTTPParseError(f"bad chunk size {size_field!r}") from None
            if size == 0:
                # The last chunk, then optional trailers, then an empty line.
                rest = end + 2
                if len(self._buf) < rest + 2:
                    return None
                if self._buf[rest : rest + 2] == b"\r\n":
                    del self._buf[: rest + 2]
                else:
                    trailers_end = self._buf.find(b"\r\n\r\n", rest)
                    if trailers_end < 0:
                        return None
                    del self._buf[: trailers_end + 4]
                body = bytes(self._chunks)
                self._chunks.clear()
                return self._finish(body)
            if len(self._buf) < end + 2 + size + 2:
                return None
            self._chunks += self._buf[end + 2 : end + 2 + size]
            del self._buf[: end + 2 + size + 2]

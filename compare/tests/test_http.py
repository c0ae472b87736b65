"""The load generator's HTTP/1.1 request builder and incremental response parser."""

from __future__ import annotations

import pytest

from bgref_compare.loadgen._http import (
    HTTPParseError,
    RequestTemplate,
    ResponseParser,
    post_request,
)

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}"


def test_one_response_with_content_length() -> None:
    parser = ResponseParser()
    [response] = parser.feed(OK)
    assert (response.status, response.body, response.close) == (200, b"{}", False)
    assert parser.idle


def test_a_response_split_at_every_byte() -> None:
    parser = ResponseParser()
    done = [r for i in range(len(OK)) for r in parser.feed(OK[i : i + 1])]
    assert [r.body for r in done] == [b"{}"]


def test_several_responses_in_one_read() -> None:
    parser = ResponseParser()
    first, second = parser.feed(OK + OK.replace(b"200 OK", b"503 Service Unavailable"))
    assert (first.status, second.status) == (200, 503)


def test_connection_close_and_http10() -> None:
    close = OK.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    assert ResponseParser().feed(close)[0].close
    assert ResponseParser().feed(OK.replace(b"HTTP/1.1", b"HTTP/1.0"))[0].close
    keep = OK.replace(b"HTTP/1.1", b"HTTP/1.0").replace(
        b"\r\n\r\n", b"\r\nConnection: keep-alive\r\n\r\n"
    )
    assert not ResponseParser().feed(keep)[0].close


def test_chunked_body_with_and_without_trailers() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    parser = ResponseParser()
    [plain] = parser.feed(head + b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n")
    assert plain.body == b"abcde"
    data = head + b"1\r\nz\r\n0\r\nX-Trailer: 1\r\n\r\n" + OK
    done = [r for i in range(len(data)) for r in parser.feed(data[i : i + 1])]
    assert [r.body for r in done] == [b"z", b"{}"]


def test_body_until_eof() -> None:
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nbad") == []
    response = parser.feed_eof()
    assert response is not None
    assert (response.status, response.body, response.close) == (400, b"bad", True)
    assert parser.feed_eof() is None


def test_no_body_for_204_and_1xx() -> None:
    parser = ResponseParser()
    done = parser.feed(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n" + OK)
    assert [r.status for r in done] == [204, 200]


@pytest.mark.parametrize(
    "data",
    [
        b"SMTP 200 OK\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(HTTPParseError):
        ResponseParser().feed(data)


def test_oversized_head_is_refused() -> None:
    with pytest.raises(HTTPParseError):
        ResponseParser().feed(b"HTTP/1.1 200 OK\r\n" + b"x: y\r\n" * 20000)


def test_request_encoding() -> None:
    assert post_request("h:1", "/send-message/", "a b/ü") == (
        b"POST /send-message/?message=a%20b%2F%C3%BC HTTP/1.1\r\n"
        b"Host: h:1\r\nContent-Length: 0\r\n\r\n"
    )
    template = RequestTemplate("h:1", "/baseline/", "r1-")
    assert template(42) == post_request("h:1", "/baseline/", "r1-42")
    with pytest.raises(ValueError, match="needs encoding"):
        RequestTemplate("h:1", "/x/", "a b")

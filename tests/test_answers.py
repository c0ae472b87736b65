"""What each route answers: status, exact body, JSON framing; and what it writes."""

from __future__ import annotations

import httpx
import pytest

from bgref_compare import Stack

from ._helpers import (
    BASELINE,
    RECEIVED,
    SEND,
    SETTLE_DEADLINE,
    assert_json,
    logged,
    message_query,
    nothing_written,
    request,
    send,
    token,
    wait_for_messages,
)


def test_send_message_answers_received_and_writes_the_message(
    stack: Stack, client: httpx.Client
) -> None:
    """A valid POST gets 200 and exactly the documented body, and the message is written."""
    message = f"hello {token()}"
    response = send(client, message)
    assert response.status_code == 200
    assert assert_json(response) == RECEIVED
    wait_for_messages(stack, [message], SETTLE_DEADLINE)


def test_baseline_answers_like_send_message_and_writes_nothing(
    stack: Stack, client: httpx.Client
) -> None:
    """The baseline answers exactly like /send-message/ but schedules no work."""
    message = f"baseline {token()}"
    with nothing_written(stack, client):
        baseline = send(client, message, BASELINE)
    assert baseline.status_code == 200
    assert assert_json(baseline) == RECEIVED
    assert message not in logged(stack)
    sent = send(client, f"compared {token()}")
    assert baseline.headers["content-type"] == sent.headers["content-type"]
    assert baseline.content == sent.content


@pytest.mark.parametrize(
    "query", [b"", b"message=", b"message=" + b"x" * 1001], ids=["missing", "empty", "too-long"]
)
def test_baseline_rejects_like_send_message(client: httpx.Client, query: bytes) -> None:
    """The baseline refuses what /send-message/ refuses, with the same answer."""
    baseline = request(client, "POST", BASELINE, query)
    sent = request(client, "POST", SEND, query)
    assert baseline.status_code == sent.status_code == 422
    assert baseline.headers["content-type"] == sent.headers["content-type"]
    assert assert_json(baseline) == assert_json(sent)


def test_healthz_reports_ok(client: httpx.Client) -> None:
    """A running implementation reports that it can accept work."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert assert_json(response) == {"status": "ok"}


@pytest.mark.parametrize("path", [SEND, BASELINE])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405_with_allow_and_write_nothing(
    stack: Stack, client: httpx.Client, method: str, path: str
) -> None:
    """Other methods get 405 with JSON and an Allow header naming POST; nothing is written."""
    with nothing_written(stack, client):
        response = request(client, method, path, message_query(f"wrong-method {token()}"))
    assert response.status_code == 405
    body = assert_json(response)
    assert isinstance(body, dict)
    assert "detail" in body
    allowed = {m.strip().upper() for m in response.headers.get("allow", "").split(",")}
    assert "POST" in allowed, f"Allow: {response.headers.get('allow')!r}"
    assert method not in allowed


@pytest.mark.parametrize("path", [SEND, BASELINE])
def test_head_is_405_with_allow_and_writes_nothing(
    stack: Stack, client: httpx.Client, path: str
) -> None:
    """HEAD gets 405 and an Allow header naming POST (a HEAD answer has no body)."""
    with nothing_written(stack, client):
        response = request(client, "HEAD", path, message_query(f"head {token()}"))
    assert response.status_code == 405
    allowed = {m.strip().upper() for m in response.headers.get("allow", "").split(",")}
    assert "POST" in allowed, f"Allow: {response.headers.get('allow')!r}"
    assert "HEAD" not in allowed


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/no-such-path"),
        ("POST", "/no-such-path/"),
        ("POST", "/send-message/extra/"),
        ("GET", "/healthz/extra"),
        # The contract's paths are exact: another spelling is unknown, never a
        # redirect (a client that follows it POSTs the message a second time).
        ("POST", "/send-message"),
        ("POST", "/baseline"),
        ("GET", "/healthz/"),
        ("POST", "//send-message/"),
        ("POST", "/send-message//"),
        ("GET", "//healthz"),
    ],
)
def test_unknown_paths_are_404_json_and_write_nothing(
    stack: Stack, client: httpx.Client, method: str, path: str
) -> None:
    """Unknown paths get 404 with a JSON detail; nothing is written."""
    # An absolute URL: httpx would read a path of its own that starts with "//"
    # as the name of a host.
    url = httpx.URL(f"{stack.base_url}{path}", query=message_query(f"unknown-path {token()}"))
    with nothing_written(stack, client):
        response = client.request(method, url)
    assert response.status_code == 404
    body = assert_json(response)
    assert isinstance(body, dict)
    assert "detail" in body

"""``docs/openapi.json`` matches what the server does, operation by operation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ._helpers import message_query, request, token
from ._openapi import OpenAPI, Operation

_OPERATIONS = OpenAPI().operations()


def _value(length: int) -> str:
    # Unique where the length allows, so that what it writes is never mistaken
    # for another test's message.
    return (token() + "v" * length)[:length]


def _encode(name: str, value: str) -> bytes:
    return name.encode() + message_query(value).removeprefix(b"message")


def _query_cases(operation: Operation) -> list[tuple[str, bytes, bool]]:
    """Requests derived from the documented query parameters: ``(name, query, valid)``."""
    shortest: list[bytes] = []
    longest: list[bytes] = []
    invalid: list[tuple[str, bytes, bool]] = []
    for param in operation.parameters:
        assert param["in"] == "query", f"{operation.label}: only query parameters are supported"
        name: str = param["name"]
        schema: dict[str, Any] = param.get("schema", {})
        assert schema.get("type") == "string", f"{operation.label}: only string parameters"
        low = int(schema.get("minLength", 0))
        high = int(schema.get("maxLength", 100))
        shortest.append(_encode(name, _value(max(low, 1))))
        longest.append(_encode(name, _value(high)))
        if param.get("required"):
            invalid.append((f"{name}-missing", b"", False))
        if low > 0:
            invalid.append((f"{name}-too-short", _encode(name, _value(low - 1)), False))
        if "maxLength" in schema:
            invalid.append((f"{name}-too-long", _encode(name, _value(high + 1)), False))
    if not operation.parameters:
        return [("valid", b"", True)]
    valid = [
        ("valid-shortest", b"&".join(shortest), True),
        ("valid-longest", b"&".join(longest), True),
    ]
    return valid + invalid


_CASES = [
    pytest.param(operation, query, valid, id=f"{operation.label} {case}")
    for operation in _OPERATIONS
    for case, query, valid in _query_cases(operation)
]


def test_document_describes_the_contract(openapi: OpenAPI) -> None:
    """The document covers the contract's three operations (a guard against testing nothing)."""
    labels = {operation.label for operation in openapi.operations()}
    assert {"POST /send-message/", "POST /baseline/", "GET /healthz"} <= labels


@pytest.mark.parametrize(("operation", "query", "valid"), _CASES)
def test_answers_match_the_document(
    client: httpx.Client, openapi: OpenAPI, operation: Operation, query: bytes, valid: bool
) -> None:
    """Each answer has a documented status and media type, and its body fits the schema."""
    response = request(client, operation.method.upper(), operation.path, query)
    openapi.check_response(operation, response)
    if valid:
        # A healthy, idle stack accepts every valid request.
        assert response.is_success, f"{response.status_code} {response.text[:200]!r}"
    else:
        assert response.is_client_error, f"{response.status_code} {response.text[:200]!r}"

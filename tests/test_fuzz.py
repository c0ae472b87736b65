"""Schemathesis fuzzing of the running stack against ``docs/openapi.json``, over real HTTP."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, openapi
from schemathesis.core.result import Ok

from bgref_compare import Stack

from ._helpers import SEND, SETTLE_DEADLINE, logged, wait_for_messages
from ._openapi import DOCUMENT_PATH

# A few hundred requests in all: a few seconds per operation, even through Celery.
MAX_EXAMPLES = 50
# A server that has not answered a small request on loopback within this long is hung.
REQUEST_TIMEOUT = 10.0

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.schemas import APIOperation

    # Its type parameters changed across 4.x releases: named for the checker only.
    Operation = APIOperation[Any, Any, Any, Any]


def _operations() -> list[Operation]:
    """Every operation of the document; a part schemathesis cannot read is an error."""
    found = []
    for result in openapi.from_path(DOCUMENT_PATH).get_all_operations():
        if not isinstance(result, Ok):
            raise result.err()
        found.append(result.ok())
    return found


def _has_input(operation: Operation) -> bool:
    """Whether the operation takes parameters or a body, which invalid data can get wrong."""
    return any(True for _ in operation.iter_parameters()) or bool(operation.body)


# Valid and invalid data, each with a name for the test ids.
MODES = {"valid": GenerationMode.POSITIVE, "invalid": GenerationMode.NEGATIVE}
# Invalid data cannot be made for an operation that takes no input (GET /healthz).
RUNS = [
    pytest.param(operation, mode, id=f"{operation.label}-{name}")
    for operation in _operations()
    for name, mode in MODES.items()
    if mode == GenerationMode.POSITIVE or _has_input(operation)
]


@pytest.mark.slow
@pytest.mark.parametrize(("operation", "mode"), RUNS)
def test_answers_conform_to_the_document(
    stack: Stack, operation: Operation, mode: GenerationMode
) -> None:
    """Generated requests, valid and invalid, get documented answers and never a 5xx.

    Every default check of schemathesis applies: no server error, a documented
    status, media type, headers and body; valid data accepted and invalid data
    refused; other methods answered 405 with an ``Allow`` header. Every message
    acknowledged along the way is written.
    """
    acknowledged: list[str] = []

    # No deadline and no too_slow health check: a shared 2-core machine gives no
    # latency guarantee, and the request timeout catches a hung server. No example
    # database: the parametrized runs share one function, whose saved examples
    # would be replayed against the wrong operation.
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Case[Any]) -> None:
        response = case.call(base_url=stack.base_url, timeout=REQUEST_TIMEOUT)
        case.validate_response(response)
        if operation.path == SEND and response.status_code == 200:
            acknowledged.append(_sent_message(response.request.url or ""))

    # Counted from here: a generated value may repeat one that an earlier test
    # (or an earlier example) already wrote to the shared log.
    before = Counter(logged(stack))
    check()
    expected = Counter(acknowledged)
    for message in expected:
        expected[message] += before[message]
    # Waiting also keeps this test's writes from landing during the next test.
    wait_for_messages(stack, list(expected.elements()), SETTLE_DEADLINE)


def _sent_message(url: str) -> str:
    """The one ``message`` in the query string of the URL sent, decoded as the contract says.

    Read from the request that went out, not from the generated case: a value
    that is not a string (a number, say) is sent as its text.
    """
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True, errors="strict")
    values = [value for name, value in pairs if name == "message"]
    assert len(values) == 1, f"acknowledged without exactly one message: {url}"
    return values[0]

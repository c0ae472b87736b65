"""Fuzz the running implementation with schemathesis against ``docs/openapi.json``."""

from __future__ import annotations
import os
import pytest
from hypothesis import given, settings, HealthCheck
from schemathesis import GenerationMode, openapi

from bgref_compare import Stack

from ._openapi import DOCUMENT_PATH

SCHEMA = openapi.from_path(os.environ.get("DOC", DOCUMENT_PATH))
OPS = [r.ok() for r in SCHEMA.get_all_operations()]
N = int(os.environ.get("N", "50"))


@pytest.mark.parametrize("mode", list(GenerationMode))
@pytest.mark.parametrize("operation", OPS, ids=[o.label for o in OPS])
def test_fuzz(stack: Stack, operation, mode) -> None:
    if mode.is_negative and operation.label.startswith("GET"):
        pytest.skip()

    @settings(max_examples=N, deadline=None, database=None)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        r = case.call(base_url=stack.base_url)
        print(mode, r.status_code, repr(case.query)[:80])
        case.validate_response(r)

    run()

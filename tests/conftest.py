"""Fixtures of the black-box contract suite: ``pytest tests --impl=ID``.

The suite starts the implementation's real processes from the registry in
``bgref_compare`` and speaks HTTP to them; it never imports app code.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import httpx
import pytest

from bgref_compare import (
    IMPL_IDS,
    Impl,
    RedisServer,
    RedisUnavailable,
    Stack,
    get,
    redis_service,
    require_redis,
)

from ._faults import shared_fault_stack
from ._helpers import http_client, output_tail
from ._openapi import OpenAPI
from ._stacks import STACKS, RedisDatabases, StackFactory


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--impl``: the registered implementation to test."""
    parser.addoption(
        "--impl",
        choices=IMPL_IDS,
        default=IMPL_IDS[0],
        help=f"implementation to test, from the registry (default: {IMPL_IDS[0]})",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Stop at once, with one message, if the implementation needs a Redis and none can be had.

    Otherwise every test would error on the session's ``redis`` fixture, each
    with the same traceback.
    """
    if get(str(config.getoption("--impl"))).needs_redis:
        try:
            require_redis()
        except RedisUnavailable as exc:
            raise pytest.UsageError(str(exc)) from None


def pytest_report_header(config: pytest.Config) -> str:
    """Name the implementation under test at the top of the run."""
    return f"implementation: {config.getoption('--impl')}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the output of the test's servers to its failure report."""
    report = yield
    if report.failed:
        stacks: list[Stack] = item.stash.get(STACKS, []).copy()
        shared = getattr(item, "funcargs", {}).get("stack")
        if isinstance(shared, Stack):
            stacks.insert(0, shared)
        for stack in stacks:
            report.sections.append((f"output of the {stack.impl.id} stack", output_tail(stack)))
    return report


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> Impl:
    """The implementation under test (its registry entry), chosen with ``--impl``."""
    return get(str(request.config.getoption("--impl")))


@pytest.fixture(scope="session")
def redis(impl: Impl) -> Iterator[tuple[str, RedisServer | None] | None]:
    """The session's Redis as ``(url, server)``, only for implementations that need one.

    ``REDIS_URL`` when it is set (server None), else a private ``redis-server``
    from PATH or the embedded package (``bgref_compare.redis_server_binary``).
    """
    if not impl.needs_redis:
        yield None
        return
    with redis_service() as (url, server):
        yield url, server


@pytest.fixture(scope="session")
def redis_databases(redis: tuple[str, RedisServer | None] | None) -> RedisDatabases | None:
    """One Redis database per stack, so that stacks never share a task queue."""
    if redis is None:
        return None
    url, server = redis
    return RedisDatabases(url, owned=server is not None)


@pytest.fixture(scope="session")
def stack(
    impl: Impl,
    tmp_path_factory: pytest.TempPathFactory,
    redis_databases: RedisDatabases | None,
) -> Iterator[Stack]:
    """The session's running stack: temporary LOG_PATH, no simulated delay.

    Tests share it, so each one isolates its messages with a unique token
    instead of assuming an empty log.
    """
    factory = StackFactory(impl, tmp_path_factory, redis_databases)
    try:
        yield factory()
    finally:
        factory.close()


@pytest.fixture
def stack_factory(
    impl: Impl,
    tmp_path_factory: pytest.TempPathFactory,
    redis_databases: RedisDatabases | None,
    request: pytest.FixtureRequest,
) -> Iterator[StackFactory]:
    """Start extra stacks for one test (``stack_factory({"LOG_DELAY_MS": "500"})``); stop them."""
    factory = StackFactory(impl, tmp_path_factory, redis_databases, request.node)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture(scope="session")
def client(stack: Stack) -> Iterator[httpx.Client]:
    """An HTTP client for the session stack."""
    with http_client(stack.base_url) as http:
        yield http


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    """The repository's OpenAPI document, ``docs/openapi.json``."""
    return OpenAPI()


@pytest.fixture
def fault_stack(
    request: pytest.FixtureRequest,
    impl: Impl,
    tmp_path_factory: pytest.TempPathFactory,
    redis_databases: RedisDatabases | None,
) -> Stack:
    """The session's fault stack (LOG_DELAY_MS=20), every process running."""
    return shared_fault_stack(request, impl, tmp_path_factory, redis_databases)

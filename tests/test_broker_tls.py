"""The broker behind TLS: ``rediss://`` with the server's certificate verified."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import trustme

from bgref_compare import Impl, RedisServer, Stack, StackError, wait_until

from ._faults import check_refusal, check_unhealthy, describe, require_broker
from ._helpers import http_client, send, token, wait_for_messages
from ._stacks import STACKS, StackFactory
from ._tls import TlsProxy

# How long the web process gets to say it is healthy, which it must never do
# here, and then to serve at all.
NOT_READY, SERVING = 3.0, 30.0

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def tls_broker(
    impl: Impl, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TlsProxy, Path, str]]:
    """A private Redis reachable only through TLS, the CA file of its certificate, its URL."""
    require_broker(impl)
    workdir = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    ca_file = workdir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with RedisServer(workdir) as server, TlsProxy(context, server.port) as proxy:
        # The server's password, through the proxy.
        password = quote(server.password, safe="")
        yield proxy, ca_file, f"rediss://:{password}@127.0.0.1:{proxy.port}/0"


def test_rediss_url_with_a_verified_certificate(
    impl: Impl, tls_broker: tuple[TlsProxy, Path, str], stack_factory: StackFactory
) -> None:
    """With REDIS_URL=rediss://..., messages travel over TLS and are written."""
    proxy, ca_file, url = tls_broker
    # The implementation verifies the certificate against the default trust
    # store, which OpenSSL reads from SSL_CERT_FILE: our CA and nothing else.
    stack = stack_factory({"SSL_CERT_FILE": str(ca_file)}, redis_url=url)
    messages = [f"{token()} over tls {n}" for n in range(20)]
    with http_client(stack.base_url) as client:
        for message in messages:
            assert send(client, message).status_code == 200
    wait_for_messages(stack, messages, timeout=20)
    assert proxy.handshakes > 0


def test_a_broker_certificate_from_an_untrusted_ca_is_refused(
    impl: Impl,
    tls_broker: tuple[TlsProxy, Path, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """A certificate that the trusted CA did not sign: unhealthy, and every message refused.

    Only the web runs: a 503 for each message is the proof that none was taken.
    """
    _, _, url = tls_broker
    # The web process trusts another CA only: the proxy's certificate must fail.
    stranger = trustme.CA()
    stranger_file = tmp_path / "stranger-ca.pem"
    stranger.cert_pem.write_to_path(str(stranger_file))
    stack = Stack(
        impl,
        tmp_path,
        env={"SSL_CERT_FILE": str(stranger_file), "LOG_DELAY_MS": "0"},
        redis_url=url,
        ready_timeout=NOT_READY,
    )
    request.node.stash.setdefault(STACKS, []).append(stack)
    try:
        # Never healthy; it still serves, to refuse work with a reason.
        with pytest.raises(StackError, match="not ready"):
            stack.start_process(impl.web.name)
        messages = [f"{token()} untrusted {n}" for n in range(5)]
        with http_client(stack.base_url) as client:
            health: list[httpx.Response] = []

            def answered() -> bool:
                # The server listens once its startup (a first broker probe) ends.
                try:
                    health.append(client.get("/healthz"))
                except httpx.TransportError:
                    return False
                return True

            assert wait_until(answered, SERVING), f"not serving\n{describe(stack)}"
            check_unhealthy(health[-1])
            for message in messages:
                check_refusal(send(client, message))
    finally:
        stack.stop()

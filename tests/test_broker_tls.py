"""The broker behind TLS: ``rediss://`` with the server's certificate verified."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from bgref_compare import Impl, RedisServer

from ._helpers import http_client, send, token, wait_for_messages
from ._stacks import StackFactory
from ._tls import TlsProxy
from .faults_helpers import require_broker

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def tls_broker(
    impl: Impl, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TlsProxy, Path]]:
    """A private Redis reachable only through TLS, and the CA file that signed its certificate."""
    require_broker(impl)
    workdir = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    ca_file = workdir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with RedisServer(workdir) as server, TlsProxy(context, server.port) as proxy:
        yield proxy, ca_file


def test_rediss_url_with_a_verified_certificate(
    impl: Impl, tls_broker: tuple[TlsProxy, Path], stack_factory: StackFactory
) -> None:
    """With REDIS_URL=rediss://..., messages travel over TLS and are written."""
    proxy, ca_file = tls_broker
    # The implementation verifies the certificate against the default trust
    # store, which OpenSSL reads from SSL_CERT_FILE: our CA and nothing else.
    stack = stack_factory(
        {"SSL_CERT_FILE": str(ca_file)}, redis_url=f"rediss://127.0.0.1:{proxy.port}/0"
    )
    messages = [f"{token()} over tls {n}" for n in range(20)]
    with http_client(stack.base_url) as client:
        for message in messages:
            assert send(client, message).status_code == 200
    wait_for_messages(stack, messages, timeout=20)
    assert proxy.handshakes > 0

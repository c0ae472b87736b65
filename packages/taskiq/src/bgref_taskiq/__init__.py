"""send-message on Taskiq: the web front in `web` (FastAPI), the worker in `worker`."""

from __future__ import annotations

__all__: list[str] = []

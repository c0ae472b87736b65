"""send-message on Dramatiq: the web front in `web` (FastAPI), the broker and actor in `worker`."""

from __future__ import annotations

__all__: list[str] = []

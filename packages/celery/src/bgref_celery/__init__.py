"""send-message on Celery: the web front in `web` (FastAPI), the Celery app in `worker`."""

from __future__ import annotations

__all__: list[str] = []

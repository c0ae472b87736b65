"""The JSON bodies of the successful answers."""

from __future__ import annotations

from typing import Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from bgref_linelog import LogWriter

__all__ = ["Health", "Received", "unavailable"]

# The schemas list the fields as required (the answer always has them) and closed.
_CONFIG = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class Received(BaseModel):
    """The acknowledgement: the message is taken, its work runs after this answer."""

    model_config = _CONFIG

    message: Literal["Message received"] = "Message received"


class Health(BaseModel):
    """The health answer while the app can accept work."""

    model_config = _CONFIG

    status: Literal["ok"] = "ok"


def unavailable(writer: LogWriter) -> JSONResponse:
    """The 503 of ``/healthz`` while ``writer`` holds lines for a retry."""
    detail = f"the log file cannot be written; {writer.held} lines held for a retry"
    return JSONResponse(
        {"status": "unavailable", "detail": detail},
        status_code=503,
        headers={"Retry-After": "1"},
    )

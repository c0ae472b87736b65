"""The JSON bodies of the successful answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Health", "Received"]

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

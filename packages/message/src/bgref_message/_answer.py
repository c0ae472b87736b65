"""The contract's answer to an accepted message: the same body from every implementation."""

from __future__ import annotations

from typing import Final

__all__ = ["RECEIVED"]

# docs/contract.md: `200 {"message": "Message received"}`. A JSON object that every
# framework serialises alike; callers must not mutate it.
RECEIVED: Final[dict[str, str]] = {"message": "Message received"}

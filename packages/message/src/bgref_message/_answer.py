"""The contract's answers: an accepted message, a refusal while the broker is away, health."""

from __future__ import annotations

from typing import Final

__all__ = ["RECEIVED", "RETRY_AFTER", "UNAVAILABLE", "health", "refusal"]

# docs/contract.md: `200 {"message": "Message received"}`. A JSON object that every
# framework serialises alike; callers must not mutate it.
RECEIVED: Final[dict[str, str]] = {"message": "Message received"}

# The status of a message refused because the broker is away (or of a health
# check while it is): nothing was acknowledged, the client may try again.
UNAVAILABLE: Final = 503
# The headers of that refusal: a breaker probes twice a second, so a second is
# long enough for a client to wait before it tries again.
RETRY_AFTER: Final[dict[str, str]] = {"Retry-After": "1"}


def refusal(reason: str) -> dict[str, str]:
    """The body of a ``503`` refusal: a JSON ``detail``, as FastAPI's ``HTTPException`` has it."""
    return {"detail": reason}


def health(reason: str | None) -> tuple[int, dict[str, str]]:
    """``GET /healthz``'s status and body: ``200`` unless ``reason`` says why work is refused."""
    if reason is None:
        return 200, {"status": "ok"}
    return UNAVAILABLE, {"status": "unavailable", "detail": reason}

"""Dramatiq's JSON encoder, strict about the shape of what it decodes.

A message in Redis is data that anyone who can reach Redis may have written.
Dramatiq's ``Message.decode`` turns ``fields["args"]`` into a tuple whatever it
is, so a string where the argument list belongs (``"args": "hi"``) becomes one
argument per character: ``"x"`` would pass as the valid message ``x``. This
encoder refuses any body that is not a JSON object with an ``args`` list and,
if present, ``kwargs`` and ``options`` objects; ``Message.decode`` then raises
``DecodeError``, which ``_consumer.py`` turns into a dead letter. It never
unpickles anything: JSON is Dramatiq's default encoder, set explicitly so that
nothing can swap in its ``PickleEncoder``.
"""

from __future__ import annotations

from typing import Any

from dramatiq.encoder import JSONEncoder

__all__ = ["StrictJSONEncoder"]


class StrictJSONEncoder(JSONEncoder):
    """``JSONEncoder`` whose ``decode`` raises ``ValueError`` on a body of the wrong shape."""

    def decode(self, data: bytes) -> dict[str, Any]:
        """Decode ``data``; raise unless it is a message's JSON object with an ``args`` list."""
        fields: object = super().decode(data)
        if not isinstance(fields, dict):
            raise ValueError(f"expected a JSON object, got {type(fields).__name__}")
        if not isinstance(fields.get("args"), list):
            raise ValueError("expected a list of arguments")
        for name in ("kwargs", "options"):
            if not isinstance(fields.get(name, {}), dict):
                raise ValueError(f"expected an object of {name}")
        return fields

"""The broker and actors that Dramatiq's worker runs: ``dramatiq bgref_dramatiq.worker:broker``."""

from __future__ import annotations

from bgref_linelog import LogWriter

from ._actor import declare_actors
from ._broker import make_broker
from ._settings import Settings

__all__ = ["broker", "write_message", "write_messages"]

_settings = Settings.from_env()
# Building a writer reads LOG_PATH/LOG_FSYNC/LOG_DELAY_MS without opening the
# file, so a bad setting stops the worker at start instead of failing messages.
LogWriter()
broker = make_broker(_settings, web=False)
write_messages, write_message = declare_actors(broker, _settings)

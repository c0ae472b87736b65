"""What a worker accepts from the stream: one known task with one valid message, nothing else."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bgref_message import InvalidMessage, check_message

__all__ = ["TASK_NAME", "BadPayload", "Job", "read_job"]

# The name travels inside every queued message, so it is spelled out rather
# than derived from the module path: moving the code must not strand queued work.
TASK_NAME = "bgref_taskiq.write_message"


class BadPayload(ValueError):
    """A stream entry that is not a job of ours; ``task_id`` names it if it had one."""

    def __init__(self, reason: str, task_id: str | None = None) -> None:
        super().__init__(reason)
        self.task_id = task_id


@dataclass(frozen=True)
class Job:
    """A job that passed the boundary: its id and the message to write."""

    task_id: str
    message: str


def read_job(fields: object) -> Job:
    """Check one stream entry's fields as taskiq-redis writes them (``{b"data": <json>}``).

    The web validated the message, but anyone who can write to Redis can queue
    anything, so the worker checks again, with the same rules, before taskiq
    sees it: JSON only (taskiq's JSON formatter; nothing is ever unpickled), our
    task's name, exactly one positional argument, no keyword arguments, and a
    message the web would have accepted. Labels are not read from the wire at
    all (a label such as ``ack_type`` or ``timeout`` would change how taskiq
    treats the message).
    """
    if not isinstance(fields, dict) or not isinstance(fields.get(b"data"), bytes):
        raise BadPayload("no data field")
    try:
        body = json.loads(fields[b"data"])
    except (UnicodeDecodeError, ValueError) as error:
        raise BadPayload(f"not JSON ({error})") from None
    if not isinstance(body, dict):
        raise BadPayload(f"not a JSON object but {type(body).__name__}")
    task_id = body.get("task_id")
    if not isinstance(task_id, str) or not 0 < len(task_id) <= 100:
        raise BadPayload("no valid task_id")
    if body.get("task_name") != TASK_NAME:
        raise BadPayload(f"unknown task {str(body.get('task_name'))[:80]!r}", task_id)
    args, kwargs = body.get("args"), body.get("kwargs", {})
    if not isinstance(args, list) or len(args) != 1 or kwargs != {}:
        raise BadPayload("arguments should be exactly one message", task_id)
    try:
        message = check_message(args[0])
    except InvalidMessage as error:
        raise BadPayload(f"invalid message: {error} ({error.error['input']!r})", task_id) from None
    return Job(task_id, message)

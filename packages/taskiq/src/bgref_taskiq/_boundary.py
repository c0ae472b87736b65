"""What a worker accepts from the stream: one of our two tasks with valid messages, no more."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bgref_message.queue import MAX_GROUP, InvalidJob, check_group, check_one, job_argument

__all__ = ["BATCH_TASK_NAME", "TASK_NAME", "BadPayload", "Job", "read_job"]

# The names travel inside every queued message, so they are spelled out rather
# than derived from the module path: moving the code must not strand queued work.
# One message per task: the docs' way, which the lab's route kicks.
TASK_NAME = "bgref_taskiq.write_message"
# A group of messages per task: what /send-message/ kicks.
BATCH_TASK_NAME = "bgref_taskiq.write_messages"


class BadPayload(ValueError):
    """A stream entry that is not a job of ours; ``task_id`` names it if it had one."""

    def __init__(self, reason: str, task_id: str | None = None) -> None:
        super().__init__(reason)
        self.task_id = task_id


@dataclass(frozen=True)
class Job:
    """A job that passed the boundary: its id, its task and the messages to write."""

    task_id: str
    task_name: str
    messages: tuple[str, ...]

    @property
    def args(self) -> list[object]:
        """The task's arguments as the web sent them: a message, or a list of them."""
        if self.task_name == TASK_NAME:
            return [self.messages[0]]
        return [list(self.messages)]


def read_job(fields: object) -> Job:
    """Check one stream entry's fields as taskiq-redis writes them (``{b"data": <json>}``).

    The web validated the messages, but anyone who can write to Redis can queue
    anything, so the worker checks again, with the same rules, before taskiq
    sees it: JSON only (taskiq's JSON formatter; nothing is ever unpickled), one
    of our tasks' names, exactly one positional argument (a message, or a list
    of 1 to ``MAX_GROUP`` of them), no keyword arguments, and only messages the
    web would have accepted (``bgref_message.queue.check_group``): one bad message
    refuses the whole group, since the web never sends one. Labels are not read
    from the wire at all (a label such as ``ack_type`` or ``timeout`` would
    change how taskiq treats the message).
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
    task_name = body.get("task_name")
    if task_name not in (TASK_NAME, BATCH_TASK_NAME):
        raise BadPayload(f"unknown task {str(task_name)[:80]!r}", task_id)
    try:
        value = job_argument(body.get("args"), body.get("kwargs", {}))
        if task_name == TASK_NAME:
            messages = [check_one(value)]
        else:
            messages = check_group(value, most=MAX_GROUP)
    except InvalidJob as error:
        raise BadPayload(str(error), task_id) from None
    return Job(task_id, str(task_name), tuple(messages))

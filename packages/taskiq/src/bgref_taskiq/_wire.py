"""taskiq's messages as they wait in the Redis stream, for tests that push raw payloads.

The contract suite's trust-boundary tests find this module through the registry
(``Impl.raw_push``), so the knowledge of the wire format stays here. Nothing in
the apps imports it.
"""

from __future__ import annotations

import json
import pickle
import uuid
from typing import Any

import redis

from ._boundary import BATCH_TASK_NAME, TASK_NAME
from ._broker import STREAM

__all__ = ["ENCODINGS", "push"]

# "json": taskiq's own format. "pickle": the message pickled. "undecodable": not
# JSON. "malformed": JSON, but not taskiq's message. "garbage": an entry without
# the data field that taskiq-redis puts the message in.
ENCODINGS = ("json", "pickle", "undecodable", "malformed", "garbage")


def push(
    redis_url: str,
    args: Any = (),
    kwargs: Any = None,
    *,
    task: str | None = None,
    group: bool = False,
    encoding: str = "json",
) -> str:
    """Add one job straight to the stream, as a local client could; return its entry id.

    The worker's log names a dropped job by its stream entry id (and its task
    id, when it has one). ``task`` defaults to the task that writes one message;
    with ``group``, to the one that writes a group, as the web queues it
    (``args`` then holds the list).
    """
    job_id = str(uuid.uuid4())
    body = {
        "task_id": job_id,
        "task_name": task or (BATCH_TASK_NAME if group else TASK_NAME),
        "labels": {},
        "args": args,
        "kwargs": {} if kwargs is None else kwargs,
    }
    field = b"data"
    if encoding == "json":
        body["args"] = list(args) if isinstance(args, tuple) else args
        data = json.dumps(body).encode()
    elif encoding == "pickle":
        data = pickle.dumps(body, protocol=2)
    elif encoding == "undecodable":
        data = b"\xff{not json " + job_id.encode()
    elif encoding == "malformed":
        data = json.dumps({"not": "a taskiq message", "id": job_id}).encode()
    elif encoding == "garbage":
        field, data = b"junk", f"not a taskiq message {job_id}".encode()
    else:
        raise ValueError(f"unknown encoding {encoding!r}; known: {', '.join(ENCODINGS)}")
    client = redis.Redis.from_url(redis_url)
    try:
        entry_id = client.xadd(STREAM, {field: data})
    finally:
        client.close()
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

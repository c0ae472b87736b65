"""Dramatiq's messages as they wait in Redis, for tests that push raw payloads past the web.

The contract suite's trust-boundary tests play a local process that can reach
the broker's Redis. They find this module through the registry (``raw_push``)
rather than knowing Dramatiq's format themselves, so each queue implementation
keeps the knowledge of its own wire format. Nothing in the apps imports it.

Dramatiq's Redis broker keeps a message's body in a hash (``dramatiq:default.msgs``,
field: its Redis id) and its id in a list (``dramatiq:default``), both set by
the ``enqueue`` command of its dispatch script (``HSET``, then ``RPUSH``).
"""

from __future__ import annotations

import json
import pickle
import time
import uuid
from typing import Any

import redis

from ._broker import ACTOR_NAME, BATCH_ACTOR_NAME, NAMESPACE, QUEUE

__all__ = ["ENCODINGS", "push"]

# How ``push`` encodes the job. "json": the queue's own format. "pickle": the
# message pickled, as Dramatiq's PickleEncoder would have it. "undecodable": not
# UTF-8, not JSON. "malformed": JSON, but not a message's fields. "garbage": an
# entry that is not Dramatiq's format at all.
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
    """Queue one job straight into Redis, as a local client could; return its id.

    The id is both the message's id and its Redis id: what the worker's log
    names it by, whether it decodes or not. ``task`` defaults to the actor that
    writes one message; with ``group``, to the one that writes a group, as the
    web queues it (``args`` then holds the list).
    """
    job_id = str(uuid.uuid4())
    fields = {
        "queue_name": QUEUE,
        "actor_name": task or (BATCH_ACTOR_NAME if group else ACTOR_NAME),
        "args": args,
        "kwargs": {} if kwargs is None else kwargs,
        "options": {"redis_message_id": job_id},
        "message_id": job_id,
        "message_timestamp": int(time.time() * 1000),
    }
    if encoding == "json":
        entry = json.dumps(fields, separators=(",", ":")).encode()
    elif encoding == "pickle":
        entry = pickle.dumps(fields)
    elif encoding == "undecodable":
        entry = b"\xff{not json " + job_id.encode()
    elif encoding == "malformed":
        entry = json.dumps({"not": "a message's fields", "id": job_id}).encode()
    elif encoding == "garbage":
        entry = f"not a Dramatiq message {job_id}".encode()
    else:
        raise ValueError(f"unknown encoding {encoding!r}; known: {', '.join(ENCODINGS)}")
    client = redis.Redis.from_url(redis_url)
    try:
        with client.pipeline() as pipe:
            pipe.hset(f"{NAMESPACE}:{QUEUE}.msgs", job_id, entry)
            pipe.rpush(f"{NAMESPACE}:{QUEUE}", job_id)
            pipe.execute()
    finally:
        client.close()
    return job_id

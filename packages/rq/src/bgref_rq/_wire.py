"""RQ's jobs as they wait in Redis, for tests that push raw jobs past the web.

The contract suite's trust-boundary tests play a local process that can reach
the broker's Redis. They find this module through the registry (``raw_push``)
rather than knowing RQ's format themselves. Nothing in the apps imports it.
An RQ job is a hash, ``rq:job:<id>``, whose ``data`` holds the serialized
``(function, instance, args, kwargs)``; the queue is a list of job ids.
"""

from __future__ import annotations

import json
import pickle
import uuid
import zlib
from datetime import datetime, timezone
from typing import Any

import redis

from ._group import GROUP_FUNC_NAME
from ._jobs import FUNC_NAME
from ._queue import QUEUE

__all__ = ["ENCODINGS", "push"]

# How ``push`` encodes the job. "json": the queue's own format. "pickle": the
# payload pickled, as RQ's default serializer would. "undecodable": the hash is
# right but its data is not JSON. "malformed": the data is JSON but not RQ's
# (function, instance, args, kwargs). "garbage": an id in the queue that names
# no job at all.
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

    The id is what the worker's log names the job by (for "garbage", the
    entry in the queue). ``task`` defaults to the function that writes one
    message; with ``group``, to the one that writes a group, as the web queues
    it (``args`` then holds the list).
    """
    job_id = str(uuid.uuid4())
    client = redis.Redis.from_url(redis_url)
    try:
        if encoding == "garbage":
            job_id = f"not an rq job {job_id}"
        else:
            payload = (
                task or (GROUP_FUNC_NAME if group else FUNC_NAME),
                None,
                args,
                {} if kwargs is None else kwargs,
            )
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            client.hset(
                f"rq:job:{job_id}",
                mapping={
                    "data": zlib.compress(_data(payload, encoding, job_id)),
                    "created_at": stamp,
                    "enqueued_at": stamp,
                    "origin": QUEUE,
                    "status": "queued",
                    "description": "a raw job",
                    "timeout": "10",
                    "result_ttl": "0",
                },
            )
        # RQ's producers RPUSH and its workers take from the left.
        client.rpush(f"rq:queue:{QUEUE}", job_id)
    finally:
        client.close()
    return job_id


def _data(payload: tuple[Any, ...], encoding: str, job_id: str) -> bytes:
    if encoding == "json":
        return json.dumps(payload).encode()
    if encoding == "pickle":
        return pickle.dumps(payload, protocol=2)
    if encoding == "undecodable":
        return b"\xff{not json " + job_id.encode()
    if encoding == "malformed":
        return json.dumps({"not": "function, instance, args, kwargs"}).encode()
    raise ValueError(f"unknown encoding {encoding!r}; known: {', '.join(ENCODINGS)}")

"""Celery's messages as they wait in Redis, for tests that push raw payloads past the web.

The contract suite's trust-boundary tests play a local process that can reach
the broker's Redis. They find this module through the registry (``Impl.wire``)
rather than knowing kombu's format themselves, so each queue implementation
keeps the knowledge of its own wire format. Nothing in the apps imports it.
"""

from __future__ import annotations

import base64
import json
import pickle
import uuid
from typing import Any

import redis

from ._celery import BATCH_TASK_NAME, TASK_NAME

__all__ = ["ENCODINGS", "QUEUE", "push"]

# The queue that the workers consume, as kombu names it in Redis.
QUEUE = "celery"

# How ``push`` encodes the job. "json": the queue's own format. "pickle": the
# arguments pickled and declared as pickle (kombu's application/x-python-serialize).
# "undecodable": the envelope is right but its body is not JSON. "malformed": the
# body is JSON but not Celery's (args, kwargs, embed). "garbage": the entry in the
# queue is not kombu's envelope at all.
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

    The id is what the worker's log names the job by (a task id; for
    "garbage", a token inside the entry). ``task`` defaults to the task that
    writes one message; with ``group``, to the one that writes a group, as the
    web queues it (``args`` then holds the list).
    """
    job_id = str(uuid.uuid4())
    if encoding == "garbage":
        entry = f"not a kombu message {job_id}".encode()
    else:
        content_type, body = _body(args, {} if kwargs is None else kwargs, encoding, job_id)
        entry = _envelope(
            body, content_type, task or (BATCH_TASK_NAME if group else TASK_NAME), job_id
        ).encode()
    client = redis.Redis.from_url(redis_url)
    try:
        # kombu's producers LPUSH and its consumers take from the right.
        client.lpush(QUEUE, entry)
    finally:
        client.close()
    return job_id


def _body(args: Any, kwargs: Any, encoding: str, job_id: str) -> tuple[str, bytes]:
    # Celery's message protocol 2: (args, kwargs, embed).
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    if encoding == "json":
        return "application/json", json.dumps([args, kwargs, embed]).encode()
    if encoding == "pickle":
        return "application/x-python-serialize", pickle.dumps((args, kwargs, embed), protocol=2)
    if encoding == "undecodable":
        return "application/json", b"\xff{not json " + job_id.encode()
    if encoding == "malformed":
        return "application/json", json.dumps({"not": "args, kwargs, embed"}).encode()
    raise ValueError(f"unknown encoding {encoding!r}; known: {', '.join(ENCODINGS)}")


def _envelope(body: bytes, content_type: str, task: str, job_id: str) -> str:
    """A message as kombu's Redis transport queues it."""
    return json.dumps(
        {
            "body": base64.b64encode(body).decode(),
            "content-encoding": "binary" if "python" in content_type else "utf-8",
            "content-type": content_type,
            "headers": {
                "lang": "py",
                "task": task,
                "id": job_id,
                "root_id": job_id,
                "parent_id": None,
                "group": None,
                "retries": 0,
                "eta": None,
                "expires": None,
                "timelimit": [None, None],
                "argsrepr": "(...)",
                "kwargsrepr": "{}",
                "origin": "a local client that can reach Redis",
                "ignore_result": True,
            },
            "properties": {
                "correlation_id": job_id,
                "reply_to": "",
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": QUEUE},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )

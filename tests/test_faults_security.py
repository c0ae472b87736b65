"""Security: a pickled message pushed straight into the broker's queue is refused, never run."""

from __future__ import annotations

import base64
import builtins
import json
import pickle
import uuid
from pathlib import Path

import pytest

from bgref_compare import Impl, Stack, wait_until

from ._helpers import http_client, send, token, wait_for_messages
from .faults_helpers import describe, redis_call, require_broker

pytestmark = pytest.mark.faults

# The queue that the workers consume, as kombu names it in Redis.
QUEUE = "celery"
TASK = "bgref_celery.write_message"
SETTLE = 30.0
# What kombu says when it will not deserialize a message's content type.
REFUSED = "ContentDisallowed"


class _CreatesFile:
    """Unpickling this creates ``path``: the proof that pickled code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return builtins.open, (str(self.path), "w")


def _pickled_body(marker: Path) -> bytes:
    # Celery's message protocol 2: (args, kwargs, embed).
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    return pickle.dumps(((_CreatesFile(marker),), {}, embed), protocol=2)


def _kombu_message(body: bytes) -> str:
    """A message as kombu's Redis transport queues it, declared as pickle."""
    task_id = str(uuid.uuid4())
    return json.dumps(
        {
            "body": base64.b64encode(body).decode(),
            "content-encoding": "binary",
            "content-type": "application/x-python-serialize",
            "headers": {
                "lang": "py",
                "task": TASK,
                "id": task_id,
                "root_id": task_id,
                "parent_id": None,
                "group": None,
                "retries": 0,
                "eta": None,
                "expires": None,
                "timelimit": [None, None],
                "argsrepr": "(...)",
                "kwargsrepr": "{}",
                "origin": "an attacker who can reach Redis",
                "ignore_result": True,
            },
            "properties": {
                "correlation_id": task_id,
                "reply_to": "",
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": QUEUE},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )


def test_a_pickled_message_in_the_queue_is_refused_and_never_runs(
    impl: Impl, fault_stack: Stack, tmp_path: Path
) -> None:
    """A raw LPUSH of a pickle message: the worker refuses it, and its code never runs."""
    require_broker(impl)
    stack = fault_stack
    # The payload is live: unpickled, it creates its file.
    control = tmp_path / "control"
    (opened,), _, _ = pickle.loads(_pickled_body(control))
    opened.close()
    assert control.exists()

    marker = tmp_path / "pickle-ran"
    refusals = stack.output().count(REFUSED)
    redis_call(stack.env["REDIS_URL"], "LPUSH", QUEUE, _kombu_message(_pickled_body(marker)))
    # A valid message queued after it: once it is written, the worker has taken
    # the pickled one (the queue is first in, first out) and had every chance to run it.
    after = f"after the pickle {token()}"
    with http_client(stack.base_url) as client:
        assert send(client, after).status_code == 200
    wait_for_messages(stack, [after], SETTLE)
    assert wait_until(lambda: stack.output().count(REFUSED) > refusals, SETTLE), (
        f"the worker never reported refusing the pickle\n{describe(stack)}"
    )
    assert not marker.exists(), "the pickled message's code ran"

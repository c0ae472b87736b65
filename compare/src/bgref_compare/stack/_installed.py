"""An implementation installed from our wheels alone: where it came from, and that it works.

The distribution names of this repository are ours on the public index (see
shared/README.md#install), but a name is only safe if nothing resolves it there:
an environment built from the wheels must hold our distributions from those
wheels, and the implementation must start and do its work from them.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bgref_compare.registry import get

from ._redis import redis_service
from ._stack import Stack

__all__ = ["check_installed"]

# Every distribution of this repository starts with this prefix.
_PREFIX = "bgref-"

# Run by the environment's own interpreter: each of our distributions there, and
# the URL it was installed from (PEP 610's direct_url.json), or None.
_ORIGINS = """
import json
from importlib import metadata
found = {}
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if name.lower().startswith(%r):
        direct = dist.read_text("direct_url.json")
        found[name.lower()] = json.loads(direct)["url"] if direct else None
print(json.dumps(found))
"""


def _origins(python: Path) -> dict[str, str | None]:
    done = subprocess.run(
        [str(python), "-c", _ORIGINS % _PREFIX],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found: dict[str, str | None] = json.loads(done.stdout)
    return found


def check_installed(impl_id: str, python: Path, wheels: Path) -> str:
    """Check ``impl_id`` in the environment of ``python``; a line saying what was checked.

    Raises ``AssertionError`` if one of our distributions there did not come from
    a wheel in ``wheels``, if the implementation's package is missing, or if the
    implementation does not answer a message and write it.
    """
    impl = get(impl_id)
    # Absolute, as the stack runs its processes in a folder of its own; not
    # resolved, as a venv's python is a symlink to the interpreter it wraps.
    python = python.absolute()
    origins = _origins(python)
    assert impl.package in origins, f"{impl.package} is not installed: {sorted(origins)}"
    folder = wheels.resolve().as_uri()
    strays = {name: url for name, url in origins.items() if not (url or "").startswith(folder)}
    assert not strays, f"not installed from {wheels}: {strays}"
    message = f"installed-{uuid.uuid4().hex[:12]}"
    with contextlib.ExitStack() as resources:
        redis_url = None
        if impl.needs_redis:
            redis_url, _ = resources.enter_context(redis_service())
        workdir = Path(resources.enter_context(tempfile.TemporaryDirectory(prefix="bgref-")))
        stack = resources.enter_context(
            Stack(impl, workdir, redis_url=redis_url, python=str(python))
        )
        request = urllib.request.Request(
            f"{stack.base_url}/send-message/?message={message}", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200, f"answered {answer.status}"
        from bgref_linelog import read_messages

        deadline = time.monotonic() + 30.0
        while message not in (read_messages(stack.log_path) if stack.log_path.exists() else []):
            assert time.monotonic() < deadline, f"{message} never written\n{stack.output()}"
            time.sleep(0.05)
    return f"{impl_id}: {', '.join(sorted(origins))} from the wheels; answered and wrote"

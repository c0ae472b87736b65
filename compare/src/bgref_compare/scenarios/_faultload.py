"""The load during a fault: the generator's burst, and the requests that should not notice."""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any

from bgref_compare._profile import Profile
from bgref_compare.faults import SEND_PATH
from bgref_compare.loadgen._bench import Bench, RunningStack, new_run_id
from bgref_compare.loadgen._loadgen import LoadSpec, Phase

__all__ = ["BYSTANDER_INTERVAL_S", "Bystander", "FaultBurst"]

# During a broker fault, the endpoints that never touch the broker are asked this often.
BYSTANDER_INTERVAL_S = 0.02


class FaultBurst:
    """The load generator's open-loop burst, in a thread so that a fault can strike meanwhile."""

    def __init__(
        self,
        bench: Bench,
        running: RunningStack,
        profile: Profile,
        label: str,
        path: str = SEND_PATH,
    ) -> None:
        self.seconds = profile.fault_burst / profile.fault_rate
        phase = Phase(
            label,
            path,
            self.seconds,
            concurrency=32,
            rate=profile.fault_rate,
            writes=True,
            drain=False,
        )
        self.spec = LoadSpec(
            "127.0.0.1",
            running.stack.port,
            new_run_id(),
            (phase,),
            cpu=bench.cpus.loadgen,
            timeout_s=profile.request_timeout_s,
            per_request=True,
        )
        self.prefix = f"{self.spec.run_id}-"
        self._bench = bench
        self._timeout = self.seconds * 3 + profile.request_timeout_s + 60
        self._data: dict[str, Any] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fault-burst", daemon=True)

    def _run(self) -> None:
        try:
            self._data = self._bench.run_loadgen(self.spec, timeout=self._timeout)
        except BaseException as exc:  # handed over in join()
            self._error = exc

    def start(self) -> FaultBurst:
        """Start the burst; return at once."""
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        """Whether the burst is still sending or waiting for answers."""
        return self._thread.is_alive()

    def join(self) -> tuple[list[int], list[float | None]]:
        """Wait for the last answer; return every request's status and answer time (ms)."""
        self._thread.join(self._timeout + 10)
        if self._error is not None:
            raise self._error
        per_request = self._data["per_request"]
        return list(per_request["status"]), list(per_request["elapsed_ms"])


class Bystander:
    """``/baseline/`` and ``/healthz``, one after the other every 20 ms while a fault lasts.

    Neither touches the broker, so neither should wait while it is away: a web
    front that talks to the broker from its event loop stops them too (issue
    18). The slowest answer says whether it does.
    """

    _REQUESTS = (("POST", "/baseline/?message=bystander"), ("GET", "/healthz"))

    def __init__(self, port: int, timeout: float) -> None:
        self._port = port
        self._timeout = timeout
        self._slowest: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-bystander", daemon=True)

    def start(self) -> Bystander:
        """Start asking; return at once."""
        self._thread.start()
        return self

    @property
    def slowest(self) -> float | None:
        """The slowest answer so far, in milliseconds (None before the first)."""
        return None if self._slowest is None else round(self._slowest * 1000, 1)

    def stop(self) -> float | None:
        """Stop asking; return the slowest answer in milliseconds (None if none came)."""
        self._stop.set()
        self._thread.join(self._timeout + 5)
        return self.slowest

    def _run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=self._timeout)
        due = time.monotonic()
        try:
            while not self._stop.is_set():
                for method, path in self._REQUESTS:
                    started = time.monotonic()
                    try:
                        connection.request(method, path)
                        connection.getresponse().read()
                    except (OSError, http.client.HTTPException):
                        # No answer at all: counted as waited for, and a new connection.
                        connection.close()
                    elapsed = time.monotonic() - started
                    self._slowest = max(elapsed, self._slowest or 0.0)
                due += BYSTANDER_INTERVAL_S
                self._stop.wait(max(0.0, due - time.monotonic()))
        finally:
            connection.close()

"""How each fault strikes a running stack, and what an approach declares it loses to it."""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bgref_compare._profile import Profile
from bgref_compare.faults import busy_pool_process, pool_children, written
from bgref_compare.loadgen._accounting import count_messages
from bgref_compare.loadgen._bench import RunningStack

from ._faultmatrix import FaultRow

__all__ = [
    "EXIT_DEADLINE_S",
    "PAST_BOUND_S",
    "RETRY_BOUND_S",
    "STOPS",
    "Fault",
    "fault_kinds",
    "log_counts",
]

# A graceful stop must end well inside the servers' 30 s grace period.
EXIT_DEADLINE_S = 40.0
# How long linelog holds a line it cannot write (LOG_RETRY_SECONDS), in the
# approaches that hold writes: longer than the unwritable-log outage, so that
# nothing is lost, and short enough for the longer outage to outlast it.
RETRY_BOUND_S = 5.0
# The longer outage lasts the rest of the burst plus the bound plus this margin.
PAST_BOUND_S = 1.5


def log_counts(paths: Sequence[Path], prefix: str) -> Counter[int]:
    """How many times the logs at ``paths`` hold each ``<prefix><seq>`` message, by ``seq``."""
    return count_messages(written(*paths), prefix)[0]


@dataclass
class Fault:
    """How one fault strikes a running stack and how the stack is made whole again."""

    strike: Callable[[RunningStack], None]
    # Runs once the burst is over (the fault may have lasted until then).
    after: Callable[[RunningStack], None] = lambda running: None
    # Log files besides the stack's own that may hold the burst's messages.
    logs: Callable[[RunningStack], list[Path]] = lambda running: []
    # Checks the row against what the approach declares it loses to this fault,
    # given the stack's output from before the fault and the burst's message
    # prefix; raises if it differs.
    expect: Callable[[RunningStack, FaultRow, str, str], None] = lambda *args: None
    # The endpoints that do not use what the fault breaks are watched meanwhile.
    bystanders: bool = False


# The processes each fault stops on purpose (and that need not be found running afterwards).
STOPS = {"graceful-stop": ("web",), "web-crash": ("web",)}


def _sigterm_web(running: RunningStack) -> None:
    running.stack["web"].signal(signal.SIGTERM)


def _wait_web_exit(running: RunningStack) -> None:
    if running.stack["web"].wait(EXIT_DEADLINE_S) is None:
        raise RuntimeError(f"web still running {EXIT_DEADLINE_S:.0f} s after SIGTERM")


def _sigkill_web(running: RunningStack) -> None:
    # The whole process group, as an OOM kill of a container or a power cut would.
    running.stack["web"].signal(signal.SIGKILL, group=True)


def _worker_name(running: RunningStack) -> str:
    return running.impl.processes[1].name


def _kill_worker(outage: float) -> Callable[[RunningStack], None]:
    def strike(running: RunningStack) -> None:
        # The main process alone, as the OOM killer would pick it; its pool is
        # orphaned until the restart stops the old process group.
        name = _worker_name(running)
        running.stack[name].kill()
        time.sleep(outage)
        running.stack.start_process(name)

    return strike


def _stop_worker(outage: float) -> Callable[[RunningStack], None]:
    def strike(running: RunningStack) -> None:
        # A warm shutdown: the worker finishes its tasks in hand, then a new one starts.
        name = _worker_name(running)
        worker = running.stack[name]
        worker.signal(signal.SIGTERM)
        if worker.wait(EXIT_DEADLINE_S) is None:
            raise RuntimeError(f"{name} still running {EXIT_DEADLINE_S:.0f} s after SIGTERM")
        time.sleep(outage)
        running.stack.start_process(name)

    return strike


def _kill_pool_child(running: RunningStack) -> None:
    # A pool process asleep in the simulated work if one is seen in time, else any.
    worker = running.stack[_worker_name(running)]
    children = pool_children(worker)
    if not children:
        raise RuntimeError("the worker runs no pool processes")
    busy = busy_pool_process(worker, 2.0, running.stack.impl.mid_task_wchan)
    os.kill(busy or children[0], signal.SIGKILL)


def _broker(running: RunningStack) -> Any:
    if running.redis is None:
        raise RuntimeError("the broker faults need a private Redis")
    return running.redis


def _broker_down(outage: float) -> Callable[[RunningStack], None]:
    def strike(running: RunningStack) -> None:
        redis = _broker(running)
        redis.kill()
        time.sleep(outage)
        redis.restart()

    return strike


def _broker_frozen(outage: float) -> Callable[[RunningStack], None]:
    def strike(running: RunningStack) -> None:
        redis = _broker(running)
        redis.pause()
        time.sleep(outage)
        redis.resume()

    return strike


def _aside(running: RunningStack) -> Path:
    return running.log_path.with_name(running.log_path.name + ".aside")


def _unwritable_log(outage: float) -> Callable[[RunningStack], None]:
    def strike(running: RunningStack) -> None:
        # The log path becomes a directory; the old log is kept aside for the accounting.
        log = running.log_path
        log.rename(_aside(running))
        log.mkdir()
        time.sleep(outage)
        log.rmdir()

    return strike


# linelog's report at the end of an episode that lost lines (_backlog.py).
_LOST_REPORT = r"(\d+) lines not written to {path}: beyond the retry bound"


def _expect_bounded_loss(running: RunningStack, row: FaultRow, before: str, prefix: str) -> None:
    """Past the bound, every held line is lost, and the writers count exactly those."""
    if not running.impl.holds_writes:
        # The queue's retry has no bound: nothing may be lost.
        if row["lost"]:
            raise RuntimeError(f"lost {row['lost']} past the outage, expected none")
        return
    report = re.compile(_LOST_REPORT.format(path=re.escape(str(running.log_path))))
    output = running.stack.output()
    counted = sum(map(int, report.findall(output))) - sum(map(int, report.findall(before)))
    # The path came back after every held line had expired: none of them may be in the new file.
    late = log_counts([running.log_path], prefix)
    if counted != row["lost"] or late:
        raise RuntimeError(
            f"the bound declares {counted} lost (linelog's reports) and none written late;"
            f" the log shows {row['lost']} lost and {sum(late.values())} written late"
        )


def fault_kinds(profile: Profile) -> dict[str, Fault]:
    outage = profile.fault_outage_s
    # Held lines expire RETRY_BOUND_S after their write failed: wait that long after the last one.
    past_bound = profile.fault_burst / profile.fault_rate + RETRY_BOUND_S + PAST_BOUND_S
    return {
        "graceful-stop": Fault(_sigterm_web, after=_wait_web_exit),
        "web-crash": Fault(_sigkill_web),
        "worker-crash": Fault(_kill_worker(outage)),
        "worker-stop": Fault(_stop_worker(outage)),
        "pool-child-crash": Fault(_kill_pool_child),
        "broker-down": Fault(_broker_down(outage), bystanders=True),
        "broker-frozen": Fault(_broker_frozen(outage), bystanders=True),
        "unwritable-log": Fault(_unwritable_log(outage), logs=lambda r: [_aside(r)]),
        "unwritable-log-long": Fault(
            _unwritable_log(past_bound), logs=lambda r: [_aside(r)], expect=_expect_bounded_loss
        ),
        "recycling": Fault(lambda running: None),
    }

"""How long and how hard each scenario runs: the default, full, quick and smoke profiles.

``default`` is what ``compare`` runs with no flag: every scenario for every
implementation in about eleven minutes on two cores. ``full`` is the reference
profile, for publication (``--full``, and what ``--write-docs`` uses); ``quick``
is a short check and ``smoke`` keeps the harness from rotting.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .registry import Impl

__all__ = ["PROFILES", "SCENARIOS", "Profile"]

# Every scenario of the comparison, in running order.
SCENARIOS = (
    "throughput",
    "slow-work",
    "hot-connections",
    "scale-out",
    "load-curve",
    "concurrency",
    "faults",
    "soak",
)


@dataclass(frozen=True)
class Profile:
    """Scenario parameters; every figure in the report is measured under one profile."""

    name: str
    # The load generator's own capacity check against a trivial server.
    selfcheck_seconds: float
    # Throughput: closed loop, no simulated work, send-message and baseline alternating.
    concurrency: int
    throughput_seconds: float
    throughput_reps: int
    # Within a repetition the paths alternate in slices this long, so that a burst of
    # other work on the machine hits every path alike.
    slice_seconds: float
    warmup_seconds: float
    # Slow work: the writer sleeps this long per message; open loop below and above capacity.
    delay_ms: float
    probe_seconds: float
    slow_seconds: float
    below: float
    above: float
    open_connections: int
    # Each measured capacity is validated by open loops at 90% and 110% of it, this long:
    # long enough that 10% too much piles up well over a second of work.
    validate_seconds: float
    # Scale-out: completed messages per second against the number of workers.
    scale_seconds: float
    # Worker counts to try: for workers in processes of their own (a separate
    # worker command in the registry), and for workers inside the web process.
    worker_processes: tuple[int, ...]
    worker_threads: tuple[int, ...]
    # Throughput, then, for a worker queue, a message's CPU taken apart (``_jobcost``): this
    # long queuing with the workers frozen, and as long on the baseline (0: not).
    job_cost_seconds: float = 0.0
    # Limits, so that a hung implementation cannot hang the comparison.
    request_timeout_s: float = 30.0
    drain_timeout_s: float = 120.0
    # Faults: a burst of this many messages at this rate, with the 20 ms of work.
    fault_burst: int = 500
    fault_rate: float = 150.0
    fault_delay_ms: float = 20.0
    # How long the broker stays down or frozen; how long a fault's writes may take to land.
    fault_outage_s: float = 2.0
    fault_settle_s: float = 60.0
    # The faults to run (empty: every one that applies).
    fault_names: tuple[str, ...] = ()
    # Soak: about 80% of the measured capacity, memory compared after warm-up and at the end.
    soak_seconds: float = 180.0
    soak_warmup_seconds: float = 20.0
    soak_load: float = 0.8
    # How many of the chosen implementations soak, one of each kind first (0: every one).
    soak_count: int = 0
    # How many implementations the profile runs when none is named (``--impl``), one
    # of each model first (event loop, thread pool, worker queue; 0: every one).
    impl_count: int = 0
    # Latency against offered load: open loops at these shares of the closed-loop
    # throughput (the throughput scenario's), this long each, per path.
    curve_shares: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1)
    curve_seconds: float = 2.0
    # Concurrency sweep: closed loops on send-message at these connection counts,
    # each this long after a warm-up at the same count.
    sweep_connections: tuple[int, ...] = (1, 2, 8, 16, 32, 64, 128, 256, 512)
    sweep_seconds: float = 3.0
    sweep_warmup_seconds: float = 0.5
    # How many of the chosen implementations run both curves, one of each kind of
    # web server first (0: every one; _curves.curve_impls).
    curve_count: int = 0
    # The pitfall lab's variants (``_labplan``). Each gets this share of a throughput
    # slice (its ratio is still paired with the baseline slices of its repetition);
    # its capacity is validated or only probed; it runs every slow-work load or
    # only those that show its difference (``Variant.shows_at``); and this many of
    # each implementation's benchmarked variants run, in the registry's order (0:
    # every one).
    variant_share: float = 1.0
    validate_variants: bool = True
    every_load: bool = True
    variants_per_impl: int = 0

    def workers_for(self, impl: Impl) -> tuple[int, ...]:
        """The worker counts of the scale-out scenario for an implementation that has the knob."""
        return self.worker_processes if len(impl.processes) > 1 else self.worker_threads

    def describe(self) -> dict[str, Any]:
        """As plain data for the results' metadata."""
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "default": Profile(
        name="default",
        selfcheck_seconds=3.0,
        concurrency=32,
        # Three paired repetitions give the ratio a spread to report, in a fifth of
        # the full profile's time.
        throughput_seconds=3.0,
        throughput_reps=3,
        slice_seconds=1.0,
        warmup_seconds=1.0,
        job_cost_seconds=2.0,
        delay_ms=50.0,
        probe_seconds=2.0,
        slow_seconds=2.5,
        below=0.5,
        above=1.5,
        open_connections=64,
        validate_seconds=3.5,
        scale_seconds=3.0,
        # The scale-out floor compares 4 worker processes with 1; the full
        # profile adds 2 for the curve.
        worker_processes=(1, 4),
        worker_threads=(1, 4, 16),
        drain_timeout_s=60.0,
        fault_burst=150,
        fault_outage_s=1.0,
        fault_settle_s=45.0,
        soak_seconds=10.0,
        soak_warmup_seconds=3.0,
        # The soak and the curves show each kind of server; every implementation
        # runs the rest (with seven implementations, see compare/README.md).
        soak_count=3,
        curve_count=3,
        # Eight steps of half a second per path, five counts of a second each.
        curve_shares=(0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1),
        curve_seconds=0.5,
        sweep_connections=(1, 8, 32, 128, 512),
        sweep_seconds=1.0,
        sweep_warmup_seconds=0.25,
        # Ten variants in about a minute more than the four implementations and
        # FastAPI's four variants measured like them.
        variant_share=0.25,
        validate_variants=False,
        every_load=False,
    ),
    "full": Profile(
        name="full",
        selfcheck_seconds=5.0,
        concurrency=32,
        throughput_seconds=10.0,
        throughput_reps=5,
        slice_seconds=1.0,
        warmup_seconds=2.0,
        job_cost_seconds=3.0,
        delay_ms=50.0,
        probe_seconds=3.0,
        slow_seconds=15.0,
        below=0.5,
        above=1.5,
        open_connections=64,
        validate_seconds=12.0,
        scale_seconds=8.0,
        worker_processes=(1, 2, 4),
        worker_threads=(1, 2, 4, 8, 16),
        # Every variant measured like an implementation, on half as many seconds.
        variant_share=0.5,
    ),
    "quick": Profile(
        name="quick",
        selfcheck_seconds=1.5,
        concurrency=32,
        throughput_seconds=1.0,
        throughput_reps=2,
        slice_seconds=0.5,
        warmup_seconds=0.5,
        job_cost_seconds=1.0,
        delay_ms=50.0,
        probe_seconds=0.7,
        slow_seconds=0.8,
        below=0.5,
        above=1.5,
        open_connections=64,
        validate_seconds=1.5,
        scale_seconds=1.0,
        worker_processes=(1, 4),
        worker_threads=(2, 8),
        drain_timeout_s=30.0,
        fault_burst=120,
        fault_outage_s=1.0,
        fault_settle_s=30.0,
        soak_seconds=2.0,
        soak_warmup_seconds=0.5,
        # The curves for two implementations only, an event loop and a thread pool:
        # --quick must stay under five minutes.
        curve_shares=(0.1, 0.6, 1.1),
        curve_seconds=0.2,
        sweep_connections=(1, 32, 512),
        sweep_seconds=0.25,
        sweep_warmup_seconds=0.1,
        curve_count=2,
        variant_share=0.5,
        validate_variants=False,
        every_load=False,
        # Under five minutes: one variant of each implementation, and its faults,
        # and one implementation of each model unless --impl names them.
        variants_per_impl=1,
        impl_count=3,
    ),
    "smoke": Profile(
        name="smoke",
        selfcheck_seconds=0.5,
        concurrency=16,
        throughput_seconds=0.5,
        throughput_reps=1,
        slice_seconds=0.25,
        warmup_seconds=0.2,
        job_cost_seconds=0.5,
        delay_ms=50.0,
        probe_seconds=0.6,
        slow_seconds=0.8,
        below=0.5,
        above=1.5,
        open_connections=32,
        validate_seconds=0.8,
        scale_seconds=0.6,
        worker_processes=(1,),
        worker_threads=(2,),
        request_timeout_s=10.0,
        drain_timeout_s=15.0,
        fault_burst=120,
        fault_rate=200.0,
        fault_outage_s=0.2,
        fault_settle_s=15.0,
        # The smoke only keeps the code paths alive, in about 30 s an implementation:
        # two faults that need no restart, one variant's, and one implementation's
        # soak; one implementation of each model (each has its contract suite).
        # "gc" strikes no one: a burst to the pitfall lab's create-task route.
        fault_names=("web-crash", "unwritable-log", "gc"),
        soak_seconds=2.0,
        soak_warmup_seconds=0.5,
        soak_count=1,
        curve_shares=(0.1, 0.6, 1.1),
        curve_seconds=0.2,
        sweep_connections=(1, 8, 64),
        sweep_seconds=0.25,
        sweep_warmup_seconds=0.1,
        curve_count=1,
        variant_share=0.5,
        validate_variants=False,
        every_load=False,
        variants_per_impl=1,
        impl_count=3,
    ),
}

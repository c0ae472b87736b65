"""Throughput of the shared log writer against the baselines the issue names."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from linelog import LogWriter

# About 40 bytes a line, like a short message; plain, as most messages are.
MESSAGES = [f"message number {i:08d} hello world" for i in range(1000)]
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT


def _messages(count: int) -> list[str]:
    return (MESSAGES * (count // len(MESSAGES) + 1))[:count]


def raw_writes(path: Path, messages: list[str]) -> float:
    """Seconds for the baseline: one os.write of each encoded line on an O_APPEND descriptor."""
    fd = os.open(path, _FLAGS, 0o644)
    try:
        start = time.perf_counter()
        for message in messages:
            os.write(fd, (message + "\n").encode())
        return time.perf_counter() - start
    finally:
        os.close(fd)


def writer_writes(path: Path, messages: list[str]) -> float:
    """Seconds for LogWriter.write of each message (the file already open, as in an app)."""
    with LogWriter(path, fsync=False, delay_ms=0) as writer:
        writer.write("warm-up: opens the file")
        write = writer.write
        start = time.perf_counter()
        for message in messages:
            write(message)
        return time.perf_counter() - start


def tutorial_writes(path: Path, messages: list[str]) -> float:
    """Seconds for the tutorial's write_log: open, append, close per message."""
    start = time.perf_counter()
    for message in messages:
        with open(path, "a") as log_file:
            log_file.write(message + "\n")
    return time.perf_counter() - start


def fsync_writes(path: Path, messages: list[str]) -> float:
    """Seconds for one thread doing os.write then os.fsync per message."""
    fd = os.open(path, _FLAGS, 0o644)
    try:
        start = time.perf_counter()
        for message in messages:
            os.write(fd, (message + "\n").encode())
            os.fsync(fd)
        return time.perf_counter() - start
    finally:
        os.close(fd)


def thread_group_commit(path: Path, messages: list[str], threads: int = 32) -> float:
    """Seconds for ``threads`` threads sharing the messages through LogWriter(fsync=True)."""
    with LogWriter(path, fsync=True, delay_ms=0) as writer:
        writer.write("warm-up: opens the file")
        barrier = threading.Barrier(threads + 1)

        def work(share: list[str]) -> None:
            barrier.wait()
            for message in share:
                writer.write(message)

        workers = [
            threading.Thread(target=work, args=(messages[i::threads],)) for i in range(threads)
        ]
        for worker in workers:
            worker.start()
        barrier.wait()
        start = time.perf_counter()
        for worker in workers:
            worker.join()
        return time.perf_counter() - start


def coroutine_group_commit(path: Path, messages: list[str], tasks: int = 1000) -> float:
    """Seconds for ``tasks`` coroutines sharing the messages through LogWriter.awrite."""

    async def main() -> float:
        with LogWriter(path, fsync=True, delay_ms=0) as writer:
            await writer.awrite("warm-up: opens the file and starts the executor")

            async def work(share: list[str]) -> None:
                for message in share:
                    await writer.awrite(message)

            start = time.perf_counter()
            await asyncio.gather(*(work(messages[i::tasks]) for i in range(tasks)))
            return time.perf_counter() - start

    return asyncio.run(main())


Bench = Callable[[Path, list[str]], float]

# key -> (label, function, messages per round); the sizes keep a round near a
# second or two here. "raw" and "writer" are measured in alternating chunks.
CASES: dict[str, tuple[str, Bench, int]] = {
    "raw": ("raw os.write loop (O_APPEND)", raw_writes, 200_000),
    "writer": ("LogWriter.write", writer_writes, 200_000),
    "tutorial": ("tutorial open-append-close", tutorial_writes, 5_000),
    "fsync": ("fsync per message, 1 thread", fsync_writes, 500),
    "threads": ("group commit, 32 threads", thread_group_commit, 3_200),
    "coroutines": ("group commit, 1000 coroutines", coroutine_group_commit, 10_000),
}
CHUNK = 10_000


def _filesystem(directory: Path) -> str:
    """Return the type of the file system holding ``directory`` ("?" if unknown)."""
    best, kind = "", "?"
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                _, mount_point, fs_type, *_ = line.split()
                inside = str(directory).startswith(mount_point.rstrip("/") + "/")
                if inside and len(mount_point) > len(best):
                    best, kind = mount_point, fs_type
    except OSError:
        pass
    return kind


def run(directory: Path, rounds: int, scale: float) -> None:
    """Run every case ``rounds`` times, interleaved, and print the table and the ratios."""
    rates: dict[str, list[float]] = {key: [] for key in CASES}
    pair_ratios: list[float] = []
    counts = {key: max(1, int(count * scale)) for key, (_, _, count) in CASES.items()}
    chunk = _messages(min(CHUNK, counts["raw"]))
    for round_number in range(rounds):
        # The single-thread ratio: raw and writer alternate in short chunks, each
        # pair milliseconds apart, so that load from elsewhere hits both alike.
        for index in range(max(1, counts["raw"] // len(chunk))):
            order = ("raw", "writer") if index % 2 else ("writer", "raw")
            pair = {}
            for key in order:
                path = directory / f"{key}-{round_number}.log"
                pair[key] = len(chunk) / CASES[key][1](path, chunk)
                path.unlink()
                rates[key].append(pair[key])
            pair_ratios.append(pair["writer"] / pair["raw"])
        for key in ("tutorial", "fsync", "threads", "coroutines"):
            path = directory / f"{key}-{round_number}.log"
            messages = _messages(counts[key])
            rates[key].append(len(messages) / CASES[key][1](path, messages))
            path.unlink()

    def speedup(key: str) -> float:
        pairs = zip(rates[key], rates["fsync"], strict=True)
        return statistics.median(rate / base for rate, base in pairs)

    print(f"Python {sys.version.split()[0]}, {rounds} rounds (medians), files in {directory}")
    print(f"file system: {_filesystem(directory)} (fsync means something on a real disk only)")
    print()
    print("raw and LogWriter.write: per chunk of 10,000 lines; the others: per round")
    print(f"{'case':<32} {'lines/s':>12} {'min':>12} {'max':>12}")
    for key, (label, _, _) in CASES.items():
        values = rates[key]
        low, high = min(values), max(values)
        print(f"{label:<32} {statistics.median(values):>12,.0f} {low:>12,.0f} {high:>12,.0f}")
    print()
    tutorial = statistics.median(rates["tutorial"]) / statistics.median(rates["raw"])
    print(f"tutorial/raw ratio: {tutorial:.3f} (the writer keeps its file open instead)")
    print(f"writer/raw ratio: {statistics.median(pair_ratios):.2f}")
    print(f"group-commit speedup (32 threads): {speedup('threads'):.1f}")
    print(f"group-commit speedup (1000 coroutines): {speedup('coroutines'):.1f}")


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run the benchmark in a fresh folder."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the message counts")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path.cwd(),
        help="where to put the files; must be a real disk (not tmpfs) for fsync to mean anything",
    )
    args = parser.parse_args(argv)
    directory = Path(tempfile.mkdtemp(prefix="bench-writer-", dir=args.dir))
    try:
        run(directory, args.rounds, args.scale)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()

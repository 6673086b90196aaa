"""The `elektra-web` command: `elektra-web demo` runs the whole system on this machine."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    from elektraweb.demo.runner import DEFAULT_PORT

    parser = argparse.ArgumentParser(
        prog="elektra-web", description="See and change the configuration of many hosts."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run clusterd and three elektrad with sample configuration on loopback",
        description="Start clusterd and three elektrad on 127.0.0.1, each instance with its own "
        "sample configuration, register them, put two in a cluster, and print where to log "
        "in. A daemon that exits is started again. Ctrl-C stops everything.",
    )
    demo.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"clusterd's HTTP port (default {DEFAULT_PORT}); the instances use the ports "
        "from PORT+10 to PORT+20",
    )
    where = demo.add_mutually_exclusive_group()
    where.add_argument(
        "--dir",
        type=Path,
        help="keep keys, databases, configuration and logs here, to use again next time "
        "(default: $XDG_DATA_HOME/elektra-web/demo, i.e. ~/.local/share/elektra-web/demo)",
    )
    where.add_argument(
        "--temporary",
        action="store_true",
        help="use a new directory and remove it when the demo stops, with every change",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    from elektraweb.demo.runner import run

    return asyncio.run(run(options.port, options.dir, temporary=options.temporary))


if __name__ == "__main__":
    sys.exit(main())

"""The `elektra-web` command: `elektra-web demo` runs the whole system on this machine,
`elektra-web fleet` simulates many instances in one process."""

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
    fleet = commands.add_parser(
        "fleet",
        help="simulate many instances in one process, for load tests and benchmarks",
        description="Serve COUNT simulated instances on 127.0.0.1: elektrad's real service, "
        "each with its own CURVE keypair, request and event sockets, on a KDB in memory. "
        "Writes their names, endpoints and public keys to OUT (JSON) for registering them, "
        "then serves until SIGTERM or Ctrl-C.",
    )
    fleet.add_argument("--count", type=int, required=True, help="how many instances")
    fleet.add_argument(
        "--allow-key",
        action="append",
        required=True,
        metavar="KEY",
        help="a client's CURVE public key (Z85) or a file of them, e.g. clusterd's; repeatable",
    )
    fleet.add_argument(
        "--out", type=Path, required=True, help="where to write the instances (a JSON list)"
    )
    fleet.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="INFO logs one line per request (default WARNING)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    if options.command == "fleet":
        from elektraweb.demo import fleet

        return fleet.run(options.count, options.allow_key, options.out, log_level=options.log_level)
    from elektraweb.demo.runner import run

    return asyncio.run(run(options.port, options.dir, temporary=options.temporary))


if __name__ == "__main__":
    sys.exit(main())

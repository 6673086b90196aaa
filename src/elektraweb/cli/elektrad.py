"""The `elektrad` command: serve this host's KDB to clusterd (thin: parses, then runs)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from elektraweb.cli.search_options import add_search_options, search_limits
from elektraweb.instance.config import (
    DEFAULT_EVENT_PORT,
    DEFAULT_REQUEST_PORT,
    Config,
    ConfigError,
    default_state_dir,
)

USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="elektrad",
        description="Serve this host's key database to clusterd over ZeroMQ (CURVE), and "
        "publish every change of it.",
    )
    parser.add_argument(
        "--listen",
        metavar="tcp://HOST:PORT",
        help=f"where to take requests (default tcp://*:{DEFAULT_REQUEST_PORT}, every interface; "
        "only allowed keys get in)",
    )
    parser.add_argument(
        "--events",
        metavar="tcp://HOST:PORT",
        help=f"where to publish changes (default: the --listen host, port + 2, "
        f"so {DEFAULT_EVENT_PORT} by default)",
    )
    parser.add_argument(
        "--state",
        metavar="DIR",
        help="keypair and lock table (default $KDB_ROOT/elektrad when KDB_ROOT is set, "
        "else /var/lib/elektrad)",
    )
    parser.add_argument(
        "--allow-key",
        metavar="KEY_OR_FILE",
        action="append",
        default=[],
        help="public key (z85) of a client allowed in, or a file holding it "
        "(`clusterd --show-key` prints it); repeatable. A key may start with '-': "
        "--allow-key KEY and --allow-key=KEY both take it",
    )
    parser.add_argument(
        "--mount-dir",
        metavar="DIR",
        action="append",
        default=[],
        help="allow clusterd's admins to mount files below DIR (symlinks and '..' resolved "
        "first); repeatable. Without it remote mounting is off",
    )
    parser.add_argument(
        "--show-key",
        action="store_true",
        help="print this instance's public key (creating the keypair first) and exit",
    )
    parser.add_argument(
        "--elektra-notify",
        metavar="tcp://HOST:PORT",
        help="also send libelektra's notifications (as its zeromqsend plugin) to the SUB or "
        "XSUB socket bound there, e.g. tcp://127.0.0.1:6000 of `kdb run-hub-zeromq`; "
        "unencrypted, so loopback or ipc:// only unless --elektra-notify-remote",
    )
    parser.add_argument(
        "--elektra-notify-remote",
        action="store_true",
        help="allow --elektra-notify to name another host (its notifications are plain text)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much to log on stderr (default INFO: one line per request)",
    )
    add_search_options(parser)
    return parser


def _keys_as_one_word(argv: Sequence[str]) -> list[str]:
    """``--allow-key KEY`` → ``--allow-key=KEY``: a z85 key may start with '-', which
    argparse would otherwise take for an option."""
    words: list[str] = []
    rest = iter(argv)
    for word in rest:
        following = next(rest, None) if word == "--allow-key" else None
        words.append(word if following is None else f"{word}={following}")
    return words


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(_keys_as_one_word(sys.argv[1:] if argv is None else argv))
    if options.show_key:
        from elektraweb.wire.keys import ensure_keypair

        state = Path(options.state) if options.state else default_state_dir(os.environ)
        try:
            print(ensure_keypair(state).public)
        except OSError as error:
            print(f"elektrad: cannot use state dir {state}: {error.strerror}", file=sys.stderr)
            return 1
        return 0
    if not options.allow_key:
        parser.error("give at least one --allow-key (the output of `clusterd --show-key`)")
    try:
        config = Config.build(
            listen=options.listen,
            events=options.events,
            state_dir=options.state,
            allow_keys=options.allow_key,
            elektra_notify=options.elektra_notify,
            elektra_notify_remote=options.elektra_notify_remote,
            mount_dirs=options.mount_dir,
            search=search_limits(parser, options),
        )
    except ConfigError as error:
        parser.exit(USAGE_ERROR, f"elektrad: {error}\n")
    from elektraweb.instance.server import serve

    return serve(config, log_level=options.log_level)


if __name__ == "__main__":
    sys.exit(main())

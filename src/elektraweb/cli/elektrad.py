"""The `elektrad` command: serve this host's KDB to clusterd (thin: parses, then runs)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from elektraweb.cli.search_options import add_search_options, search_limits
from elektraweb.instance.config import (
    DEFAULT_EVENT_PORT,
    DEFAULT_REQUEST_PORT,
    Config,
    ConfigError,
    check_endpoint,
    default_state_dir,
)
from elektraweb.instance.enrollment import (
    Enrollment,
    EnrollmentError,
    advertised_endpoint,
    enroll,
    pinned_clusterd_key,
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
        "--allow-key KEY and --allow-key=KEY both take it. Not needed once enrolled",
    )
    enrollment = parser.add_argument_group(
        "enrollment", "register with clusterd by a one-time token instead of copying keys"
    )
    enrollment.add_argument(
        "--enroll",
        metavar="URL",
        help="clusterd's URL (http(s)://HOST:PORT): enroll there with --token on the first "
        "start, pin clusterd's key in the state dir and allow it; later starts use the pinned "
        "key and enroll no more",
    )
    token = enrollment.add_mutually_exclusive_group()
    token.add_argument("--token", help="the enrollment token an admin created")
    token.add_argument(
        "--token-file",
        metavar="FILE",
        help="read the token from FILE instead: a command line is visible to every local user",
    )
    enrollment.add_argument("--name", help="the name to enroll under (default: this host's name)")
    enrollment.add_argument(
        "--advertise",
        metavar="tcp://HOST:PORT",
        help="where clusterd reaches this daemon (default: --listen, with this host's name "
        "for every interface)",
    )
    enrollment.add_argument(
        "--clusterd-key",
        metavar="KEY_OR_FILE",
        help="clusterd's public key, if known beforehand: enrollment then refuses any other "
        "(without it, the key clusterd answers with is trusted on first use)",
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


_KEY_OPTIONS = frozenset({"--allow-key", "--clusterd-key"})


def _keys_as_one_word(argv: Sequence[str]) -> list[str]:
    """``--allow-key KEY`` → ``--allow-key=KEY``: a z85 key may start with '-', which
    argparse would otherwise take for an option."""
    words: list[str] = []
    rest = iter(argv)
    for word in rest:
        following = next(rest, None) if word in _KEY_OPTIONS else None
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
    try:
        config = _with_clusterd_key(parser, options, config)
    except (EnrollmentError, OSError) as error:
        print(f"elektrad: enrollment failed: {error}", file=sys.stderr)
        return 1
    from elektraweb.instance.server import serve

    return serve(config, log_level=options.log_level)


def _with_clusterd_key(
    parser: argparse.ArgumentParser, options: argparse.Namespace, config: Config
) -> Config:
    """`config` allowing clusterd's pinned key too: enrolled now (`--enroll`), or earlier."""
    if options.enroll is None:
        if (options.token, options.token_file, options.clusterd_key) != (None, None, None):
            parser.error("--token, --token-file and --clusterd-key go with --enroll")
        pinned = pinned_clusterd_key(config.state_dir)
    else:
        if not (options.token or options.token_file) and not pinned_clusterd_key(config.state_dir):
            parser.error("--enroll needs --token (an admin creates one in clusterd)")
        pinned = enroll(_enrollment(parser, options, config), config.state_dir, _report)
    allowed = config.allowed_keys if pinned is None else (*config.allowed_keys, pinned)
    if not allowed:
        parser.error(
            "give --enroll URL --token TOKEN, or at least one --allow-key (the output of"
            " `clusterd --show-key`)"
        )
    return dataclasses.replace(config, allowed_keys=tuple(dict.fromkeys(allowed)))


def _token(parser: argparse.ArgumentParser, options: argparse.Namespace) -> str:
    if options.token_file is None:
        return str(options.token or "")
    try:
        return Path(options.token_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        parser.exit(USAGE_ERROR, f"elektrad: --token-file {options.token_file}: {error}\n")


def _report(line: str) -> None:
    print(f"elektrad: {line}", file=sys.stderr, flush=True)


def _enrollment(
    parser: argparse.ArgumentParser, options: argparse.Namespace, config: Config
) -> Enrollment:
    from elektraweb.wire.keys import ensure_keypair, load_public_key

    try:
        expected = None if options.clusterd_key is None else load_public_key(options.clusterd_key)
    except ValueError as error:
        parser.exit(USAGE_ERROR, f"elektrad: --clusterd-key: {error}\n")
    try:
        endpoint = (
            advertised_endpoint(config.listen)
            if options.advertise is None
            else check_endpoint(options.advertise, "--advertise")
        )
    except (ConfigError, EnrollmentError) as error:
        parser.exit(USAGE_ERROR, f"elektrad: {error}\n")
    return Enrollment(
        url=options.enroll,
        token=_token(parser, options),
        name=options.name or socket.gethostname(),
        endpoint=endpoint,
        public_key=ensure_keypair(config.state_dir).public,
        expected_clusterd_key=expected,
    )


if __name__ == "__main__":
    sys.exit(main())

"""The `clusterd` command: serve the registry, the API and the web client (thin: parses, runs)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from elektraweb import daemon_log
from elektraweb.cli.search_options import add_search_options, search_limits
from elektraweb.cluster.config import (
    ADMIN_PASSWORD_ENV,
    AUDIT_VALUE_LIMIT,
    DEFAULT_HOST,
    DEFAULT_PORT,
    Config,
)
from elektraweb.cluster.events.hub import DEFAULT_QUEUE_LIMIT
from elektraweb.cluster.http.connections import DESCRIPTORS_KEPT, ConnectionSettings
from elektraweb.cluster.store.connection import DatabaseUnavailable
from elektraweb.systemd_notify import notify_ready

DEFAULT_STATE_DIR = Path("/var/lib/clusterd")


def parse_http_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) → host and port; port 0 takes any free port."""
    host, separator, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not separator or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an address like {DEFAULT_HOST}:{DEFAULT_PORT}"
        )
    return host, int(port)


def read_password_file(text: str) -> str:
    """The password in file `text`: its content without one trailing newline; an unreadable
    or empty file is refused."""
    try:
        password = Path(text).read_text(encoding="utf-8").removesuffix("\n")
    except (OSError, UnicodeDecodeError) as error:
        raise argparse.ArgumentTypeError(f"cannot read password file {text!r}: {error}") from None
    if not password:
        raise argparse.ArgumentTypeError(f"password file {text!r} is empty")
    return password


def _positive(convert: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            number = convert(text)
        except ValueError:
            number = 0
        if number <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
        return number

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clusterd",
        description="Manage elektrad instances and clusters of them: REST API, ZeroMQ over "
        "WebSocket, and the web client, all on one HTTP address.",
    )
    parser.add_argument(
        "--http",
        metavar="HOST:PORT",
        type=parse_http_address,
        default=(DEFAULT_HOST, DEFAULT_PORT),
        help=f"where to serve HTTP (default {DEFAULT_HOST}:{DEFAULT_PORT}; port 0: any free one)",
    )
    parser.add_argument(
        "--state",
        metavar="DIR",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help=f"CURVE keypair and, without --database, the SQLite database (default "
        f"{DEFAULT_STATE_DIR})",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        dest="database_url",
        help="keep registry, users, sessions, tokens, cluster state and audit log in this "
        "database: postgresql://USER:PASSWORD@HOST:PORT/NAME (any number of clusterd "
        "replicas may share one; the schema is created or migrated on start) or "
        "sqlite:///PATH (default: the SQLite file clusterd.sqlite3 in the state dir). "
        "To keep the password off the command line, leave it out of the URL and set "
        "PGPASSWORD or use ~/.pgpass",
    )
    first_admin = parser.add_mutually_exclusive_group()
    first_admin.add_argument(
        "--admin-password-file",
        metavar="FILE",
        dest="admin_password",
        type=read_password_file,
        help=f"file holding the password of the first user `admin`, used on first start only "
        f"(else ${ADMIN_PASSWORD_ENV}, else one is generated and printed once)",
    )
    first_admin.add_argument(
        "--admin-password",
        metavar="PW",
        help="the same, given on the command line: for demos only, since every local user can "
        "read it in /proc/PID/cmdline while clusterd runs",
    )
    parser.add_argument(
        "--allow-origin",
        metavar="ORIGIN",
        action="append",
        default=[],
        help="another origin (https://host:port, e.g. a reverse proxy) whose pages may use the "
        "API with a session cookie and open WebSockets; repeatable",
    )
    parser.add_argument(
        "--audit-value-limit",
        metavar="BYTES",
        type=int,
        default=AUDIT_VALUE_LIMIT,
        help=f"bytes of a value the audit log keeps in full (default {AUDIT_VALUE_LIMIT}); a "
        "larger one is kept as its size and SHA-256",
    )
    parser.add_argument(
        "--replica-id",
        metavar="NAME",
        help="this replica's name in the leases and the logs (default: a random one); "
        "only with a postgresql:// --database",
    )
    parser.add_argument(
        "--show-key",
        action="store_true",
        help="print clusterd's public key (creating the keypair first) and exit; give it to "
        "each elektrad as --allow-key=KEY (one word: a key may start with '-')",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much to log on stderr (default INFO: one line per request)",
    )
    limits = ConnectionSettings()
    for flag, convert, default, purpose in (
        ("--max-connections-per-address", int, limits.max_connections_per_address,
         "open HTTP connections one client address may hold"),
        ("--max-connections", int, None,
         "open HTTP connections of all clients; default and most: the open-files limit minus "
         f"{DESCRIPTORS_KEPT} (a quarter of it, if less)"),
        ("--header-timeout", float, limits.header_timeout,
         "seconds a connection has to send a request head, also the idle keep-alive time"),
        ("--body-timeout", float, limits.body_timeout,
         "seconds a request has to send its body"),
        ("--event-queue-limit", int, DEFAULT_QUEUE_LIMIT,
         "events queued per /zmq/events connection; one that falls further behind is sent "
         "one `resync` event instead"),
    ):  # fmt: skip
        parser.add_argument(
            flag,
            metavar="N" if convert is int else "SECONDS",
            type=_positive(convert),
            default=default,
            help=purpose if default is None else f"{purpose} (default {default})",
        )
    add_search_options(parser)
    return parser


async def serve(config: Config) -> None:
    """Run clusterd with the daemon link and the browser link until SIGTERM or SIGINT."""
    import zmq.asyncio

    from elektraweb.cluster.build import build
    from elektraweb.cluster.clusters.heap_trim import keep_heap_lean
    from elektraweb.cluster.http.server import Server, run
    from elektraweb.wire.keys import ensure_keypair
    from elektraweb.wire.limits import allow_many_sockets

    # Before the first link: libzmq's per-link buffers on pages of their own (heap_trim).
    keep_heap_lean()
    keypair = ensure_keypair(config.state_dir)
    # The daemon links' context (the default one): two sockets per instance.
    allow_many_sockets(zmq.asyncio.Context.instance())

    def announce(server: Server) -> None:
        # The start line goes to stdout whatever the log level: scripts wait for it.
        print(
            f"clusterd listening on {server.url}, public key {keypair.public},"
            f" state {config.state_dir}",
            flush=True,
        )
        notify_ready()

    clusterd = build(config, keypair, on_started=announce)
    try:
        await run(clusterd.server)
    finally:
        clusterd.hub.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    if options.show_key:
        from elektraweb.wire.keys import ensure_keypair

        try:
            print(ensure_keypair(options.state).public)
        except OSError as error:
            print(f"clusterd: cannot use state dir {options.state}: {error}", file=sys.stderr)
            return 1
        return 0
    host, port = options.http
    config = Config(
        state_dir=options.state,
        database_url=options.database_url,
        http_host=host,
        http_port=port,
        connections=ConnectionSettings(
            max_connections_per_address=options.max_connections_per_address,
            max_connections=options.max_connections,
            header_timeout=options.header_timeout,
            body_timeout=options.body_timeout,
        ),
        admin_password=options.admin_password,
        allowed_origins=tuple(options.allow_origin),
        audit_value_limit=options.audit_value_limit,
        search=search_limits(parser, options),
        event_queue_limit=options.event_queue_limit,
        replica_id=options.replica_id,
    )
    if options.replica_id is not None and config.shared_database_url is None:
        parser.error(
            "--replica-id needs --database postgresql://...: replicas share a PostgreSQL"
            " database, a SQLite file serves one clusterd"
        )
    daemon_log.configure(options.log_level)
    try:
        asyncio.run(serve(config))
    except (OSError, ValueError, DatabaseUnavailable) as error:
        print(f"clusterd: cannot start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

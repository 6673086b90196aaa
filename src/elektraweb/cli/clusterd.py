"""The `clusterd` command: serve the registry, the API and the web client (thin: parses, runs)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from elektraweb.cli.search_options import add_search_options, search_limits
from elektraweb.cluster.config import ADMIN_PASSWORD_ENV, DEFAULT_HOST, DEFAULT_PORT, Config

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
        help=f"CURVE keypair and database (default {DEFAULT_STATE_DIR})",
    )
    parser.add_argument(
        "--admin-password",
        metavar="PW",
        help=f"password of the first user `admin`, used on first start only (else "
        f"${ADMIN_PASSWORD_ENV}, else one is generated and printed once)",
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
    add_search_options(parser)
    return parser


async def serve(config: Config) -> None:
    """Run clusterd with the daemon link and the browser link until SIGTERM or SIGINT."""
    from elektraweb.cluster.cluster_config import ClusterConfiguration, lifecycle
    from elektraweb.cluster.events import EventHub
    from elektraweb.cluster.instance_feed import InstanceFeed
    from elektraweb.cluster.registry_events import registry_events_extension
    from elektraweb.cluster.server import Server, run
    from elektraweb.cluster.services import Services
    from elektraweb.cluster.wire_gateway import WireGateway
    from elektraweb.cluster.zws_routes import zws_extension
    from elektraweb.wire.keys import ensure_keypair

    keypair = ensure_keypair(config.state_dir)
    hub = EventHub()
    gateway = WireGateway(keypair)
    feed = InstanceFeed(hub, gateway, keypair)

    def cluster_configuration(services: Services) -> ClusterConfiguration:
        # The feed tells the cluster service of drift and of members coming back.
        configuration = ClusterConfiguration(services, hub=hub)
        feed.attach(configuration)
        return configuration

    def announce(server: Server) -> None:
        # The start line goes to stdout whatever the log level: scripts wait for it.
        print(
            f"clusterd listening on {server.url}, public key {keypair.public},"
            f" state {config.state_dir}",
            flush=True,
        )

    try:
        await run(
            config,
            gateway=gateway,
            cluster_config=cluster_configuration,
            extensions=[
                zws_extension(hub),
                registry_events_extension(hub),
                feed.extension,
                lifecycle,
            ],
            on_started=announce,
        )
    finally:
        hub.close()


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
        http_host=host,
        http_port=port,
        admin_password=options.admin_password,
        allowed_origins=tuple(options.allow_origin),
        search=search_limits(parser, options),
    )
    logging.basicConfig(
        level=options.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(serve(config))
    except (OSError, ValueError) as error:
        print(f"clusterd: cannot start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

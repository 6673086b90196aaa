"""A real clusterd (aiohttp on 127.0.0.1, SQLite in tmp_path) whose gateway reaches elektrad's
real service in-process (tests/support/inprocess.py), with clients logged in as each role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from elektraweb.cluster.config import DATABASE_FILE, Config
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.services import ClusterServiceFactory
from elektraweb.wire import KeyPair
from support.inprocess import InProcessNetwork

from .fakes import ADMIN_PASSWORD, USER_PASSWORD, Client


@pytest.fixture
async def network(tmp_path: Any) -> AsyncIterator[InProcessNetwork]:
    """The hosts: each `await network.start(endpoint)` runs one elektrad service."""
    hosts = InProcessNetwork(tmp_path / "hosts")
    yield hosts
    await hosts.close()


@pytest.fixture
def hub() -> Iterator[EventHub]:
    """The event hub of a test's clusterd, where it serves events (`/zmq/events`)."""
    hub = EventHub()
    yield hub
    hub.close()


@pytest.fixture
def gateway(network: InProcessNetwork) -> WireGateway:
    return WireGateway(KeyPair.generate(), transport=network.transport)


@pytest.fixture
def config(tmp_path: Any) -> Config:
    return Config(
        state_dir=tmp_path / "state",
        http_port=0,
        admin_password=ADMIN_PASSWORD,
        static_dir=tmp_path / "web",
        # In-process daemons write small trees at once; tests of a silent one should not wait
        # the 120 s a real 20k-key import may need.
        subtree_write_timeout=5.0,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a test's clusterd keeps its tables, once per backend: the SQLite file in the
    state dir (as `config` has it), and an empty database of its own on the test PostgreSQL
    server. Tests of the store ask for it (directly, or through their `config`)."""
    if request.param == "sqlite":
        return tmp_path / "state" / DATABASE_FILE
    dsn: str = request.getfixturevalue("postgres_dsn")
    return dsn


@pytest.fixture
def cluster_service() -> ClusterServiceFactory | None:
    """No cluster service by default; override to plug one in."""
    return None


@pytest.fixture
async def server(
    config: Config, gateway: WireGateway, cluster_service: ClusterServiceFactory | None
) -> AsyncIterator[Server]:
    clusterd = Server(config, gateway=gateway, cluster_service=cluster_service)
    await clusterd.start()
    yield clusterd
    await clusterd.stop()


ClientFactory = Callable[..., Awaitable[Client]]


@pytest.fixture
async def clients(server: Server) -> AsyncIterator[ClientFactory]:
    """`await clients()` an anonymous client; `await clients("editor")` a logged-in user of
    that role (created by admin on first use; `admin` is the first admin)."""
    opened: list[Client] = []
    created: set[str] = set()

    async def open_client(role: str | None = None) -> Client:
        # X-Requested-With: the proof of origin a cookie-authenticated write needs.
        client = Client(server.url, {"X-Requested-With": "test"})
        opened.append(client)
        if role is None:
            return client
        if role != "admin" and role not in created:
            admin = await open_client("admin")
            answer = await admin.post(
                "/api/users", {"name": role, "password": USER_PASSWORD, "role": role}
            )
            assert answer.status == 201, answer.body
            created.add(role)
        password = ADMIN_PASSWORD if role == "admin" else USER_PASSWORD
        answer = await client.login(role, password)
        assert answer.status == 200, answer.body
        return client

    yield open_client
    for client in opened:
        await client.close()


@pytest.fixture
async def admin(clients: ClientFactory) -> Client:
    return await clients("admin")


Register = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def register(admin: Client, network: InProcessNetwork) -> Register:
    """`await register(name, port, **fields)`: start an elektrad at 127.0.0.1:`port` (in this
    process), register it as admin, and return the new instance's JSON."""

    async def register_instance(name: str, port: int, **extra: Any) -> dict[str, Any]:
        daemon = await network.start(f"tcp://127.0.0.1:{port}")
        answer = await admin.post(
            "/api/instances",
            {
                "name": name,
                "endpoint": f"tcp://127.0.0.1:{port}",
                "public_key": daemon.public_key,
                **extra,
            },
        )
        assert answer.status == 201, answer.body
        body: dict[str, Any] = answer.body
        return body

    return register_instance

"""The API tests' clusterd also serves ZWS (`/zmq`): each route is tried over both transports;
and `web1`, a registered instance holding a small subtree."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from elektraweb.cluster.config import Config
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.http.sockets import zws_extension
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.services import ClusterServiceFactory
from support.inprocess import InProcessElektrad, InProcessNetwork

from ..conftest import Register


@dataclass(frozen=True)
class Registered:
    id: int
    prefix: str
    """The instance's API routes: `/api/instances/{id}`."""
    daemon: InProcessElektrad


@pytest.fixture
async def web1(register: Register, network: InProcessNetwork) -> Registered:
    """Instance web-1, holding user:/app/port (a long) and the subtree user:/app/db."""
    body = await register("web-1", 40001)
    daemon = network["tcp://127.0.0.1:40001"]
    await daemon.kdb_set("user:/app/port", "8080", {"check/type": "long"})
    await daemon.kdb_set("user:/app/db/host", "db1", {"description": "primary"})
    await daemon.kdb_set("user:/app/db/user", "web", {})
    return Registered(body["id"], f"/api/instances/{body['id']}", daemon)


@pytest.fixture
async def server(
    config: Config,
    gateway: WireGateway,
    cluster_service: ClusterServiceFactory | None,
    hub: EventHub,
) -> AsyncIterator[Server]:
    """Overrides tests/cluster's `server`: this one also serves `/zmq` and `/zmq/events`."""
    clusterd = Server(
        config, gateway=gateway, cluster_service=cluster_service, extensions=[zws_extension(hub)]
    )
    await clusterd.start()
    yield clusterd
    await clusterd.stop()

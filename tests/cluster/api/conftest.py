"""The API tests' clusterd also serves ZWS (`/zmq`): each route is tried over both transports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from elektraweb.cluster.config import Config
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.http.sockets import zws_extension
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.services import ClusterConfigFactory


@pytest.fixture
def hub() -> Iterator[EventHub]:
    hub = EventHub()
    yield hub
    hub.close()


@pytest.fixture
async def server(
    config: Config,
    gateway: WireGateway,
    cluster_config: ClusterConfigFactory | None,
    hub: EventHub,
) -> AsyncIterator[Server]:
    """Overrides tests/cluster's `server`: this one also serves `/zmq` and `/zmq/events`."""
    clusterd = Server(
        config, gateway=gateway, cluster_config=cluster_config, extensions=[zws_extension(hub)]
    )
    await clusterd.start()
    yield clusterd
    await clusterd.stop()

"""A clusterd (see ../conftest.py) whose members are `InProcessElektrad`s and whose cluster service
is `ClusterConfiguration`, publishing on `hub`."""

from __future__ import annotations

import pytest

from elektraweb.cluster.cluster_config import ClusterConfiguration
from elektraweb.cluster.events import EventHub
from elektraweb.cluster.registry import Registry
from elektraweb.cluster.server import Server
from elektraweb.cluster.services import ClusterConfigFactory


@pytest.fixture
def hub() -> EventHub:
    return EventHub()


@pytest.fixture
def cluster_config(hub: EventHub) -> ClusterConfigFactory:
    return lambda services: ClusterConfiguration(services, hub=hub)


@pytest.fixture
def service(server: Server) -> ClusterConfiguration:
    assert server.services is not None
    configuration = server.services.cluster_config
    assert isinstance(configuration, ClusterConfiguration)
    return configuration


@pytest.fixture
def registry(server: Server) -> Registry:
    assert server.services is not None
    return server.services.registry

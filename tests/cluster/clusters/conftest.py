"""A clusterd (see ../conftest.py) whose members run elektrad's service in-process and whose
cluster service is `ConvergingClusterService`, publishing on `hub`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.clusters.service import ClusterSyncJSON
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.services import ClusterServiceFactory
from elektraweb.cluster.store.registry import Registry
from support.inprocess import InProcessElektrad, InProcessNetwork

from ..conftest import Register
from ..fakes import Client


@pytest.fixture
def hub() -> EventHub:
    return EventHub()


@pytest.fixture
def cluster_service(hub: EventHub) -> ClusterServiceFactory:
    # Statuses unthrottled: each is computed and published when asked for, so what a test
    # sees after a write is that write's status, never a trailing one of the joins before it
    # (test_throttle.py, with its own interval, covers the throttle).
    return lambda services: ConvergingClusterService(services, hub=hub, status_interval=0)


@pytest.fixture
def service(server: Server) -> ConvergingClusterService:
    assert server.services is not None
    configuration = server.services.cluster_service
    assert isinstance(configuration, ConvergingClusterService)
    return configuration


@pytest.fixture
def registry(server: Server) -> Registry:
    assert server.services is not None
    return server.services.registry


ClusterSync = Callable[[int], ClusterSyncJSON]


@pytest.fixture
def cluster_sync(service: ConvergingClusterService, registry: Registry) -> ClusterSync:
    """A cluster's sync state now, as its route shows it: for the members the registry has."""
    return lambda cluster_id: service.cluster_status(registry.cluster(cluster_id))


DRIFT_KEY = "system:/app/port"


@pytest.fixture
async def member(admin: Client, register: Register, network: InProcessNetwork) -> dict[str, Any]:
    """Cluster `edge` whose one member has the cluster's key `DRIFT_KEY` = 8080."""
    cluster = (await admin.post("/api/clusters", {"name": "edge"})).body
    instance = await register("edge-1", 44001)
    await admin.post(f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]})
    await admin.put(f"/api/clusters/{cluster['id']}/kdb/{DRIFT_KEY}", "8080")
    daemon: InProcessElektrad = network[instance["endpoint"]]
    return {"cluster": cluster["id"], "id": instance["id"], "daemon": daemon}

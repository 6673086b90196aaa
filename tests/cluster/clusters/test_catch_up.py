"""Members coming back all at once are caught up a few at a time (configuration.py,
`catch_ups_at_once`), and every one of them is."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.services import ClusterServiceFactory
from support.inprocess import InProcessNetwork

from ..conftest import Register
from ..fakes import Client
from .conftest import ClusterSync
from .waiting import eventually

MEMBERS, AT_ONCE = 8, 3


@pytest.fixture
def cluster_service(hub: EventHub) -> ClusterServiceFactory:
    return lambda services: ConvergingClusterService(services, hub=hub, catch_ups_at_once=AT_ONCE)


async def test_members_coming_back_together_are_caught_up_a_few_at_a_time(
    cluster_sync: ClusterSync,
    admin: Client,
    register: Register,
    network: InProcessNetwork,
    service: ConvergingClusterService,
) -> None:
    cluster = (await admin.post("/api/clusters", {"name": "returning"})).body
    endpoints: list[str] = []
    for index in range(MEMBERS):
        instance = await register(f"returning-{index}", 47000 + index)
        await admin.post(f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]})
        network[instance["endpoint"]].faults.unreachable = True
        endpoints.append(instance["endpoint"])
    written = await admin.put(f"/api/clusters/{cluster['id']}/kdb/user:/app/port", "8080")
    assert {result["status"] for result in written.body["members"].values()} == {"pending"}

    syncing: set[str] = set()
    most = 0

    def counting(endpoint: str) -> Callable[[str], Awaitable[None]]:
        async def before(op: str) -> None:
            nonlocal most
            if op != "lock":  # a catch-up's full sync starts with it
                return
            syncing.add(endpoint)
            most = max(most, len(syncing))
            await asyncio.sleep(0.05)  # the others, if let through, start meanwhile
            syncing.discard(endpoint)

        return before

    for endpoint in endpoints:
        network[endpoint].faults.unreachable = False
        network[endpoint].faults.before = counting(endpoint)
    service.reconcile()  # every member at once, as after a restart of clusterd

    await eventually(lambda: cluster_sync(cluster["id"])["state"] == "in-sync", timeout=30)
    assert 1 <= most <= AT_ONCE
    assert all(network[endpoint].keys["user:/app/port"] == ("8080", {}) for endpoint in endpoints)

"""A cluster's status is published at most once per interval however many members report,
and the last state is always published (clusters/throttle.py)."""

from __future__ import annotations

from typing import Any

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.services import ClusterServiceFactory
from support.inprocess import InProcessNetwork

from ..conftest import Register
from ..fakes import Client
from .conftest import ClusterSync
from .waiting import data_of, next_event

MEMBERS = 20


@pytest.fixture
def cluster_service(hub: EventHub) -> ClusterServiceFactory:
    # A long interval: the burst below fits into a few of them even on a loaded machine.
    return lambda services: ConvergingClusterService(services, hub=hub, status_interval=1.0)


async def test_members_catching_up_at_once_publish_few_statuses_and_the_final_one_last(
    cluster_sync: ClusterSync,
    admin: Client,
    register: Register,
    network: InProcessNetwork,
    service: ConvergingClusterService,
    hub: EventHub,
) -> None:
    cluster = (await admin.post("/api/clusters", {"name": "wide"})).body
    members: dict[int, str] = {}
    for index in range(MEMBERS):
        instance = await register(f"wide-{index}", 46000 + index)
        await admin.post(f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]})
        network[instance["endpoint"]].faults.unreachable = True
        members[instance["id"]] = instance["endpoint"]
    written = await admin.put(f"/api/clusters/{cluster['id']}/kdb/user:/app/port", "8080")
    assert {result["status"] for result in written.body["members"].values()} == {"pending"}

    with hub.subscribe([f"cluster/{cluster['id']}/status"]) as events:
        for endpoint in members.values():
            network[endpoint].faults.unreachable = False
        # Every member is caught up at once, each ending in a sync that asks for the status.
        service.reconcile()
        published: list[dict[str, Any]] = []
        while not published or published[-1]["state"] != "in-sync":
            published.append(data_of(await next_event(events, timeout=30.0)))

    assert len(published) < MEMBERS // 2, [status["state"] for status in published]
    final = published[-1]
    assert final == {"cluster": cluster["id"], **cluster_sync(cluster["id"])}
    assert {member["state"] for member in final["members"].values()} == {"in-sync"}
    assert set(final["members"]) == {str(member) for member in members}

"""Convergence and drift while a canary release is in flight: neither undoes the canary on its
members nor pushes it to the others, and a drifted key goes back to what that member should
have (the release on a canary member, the previous content on the others)."""

from __future__ import annotations

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.store.registry import Registry
from support.inprocess import InProcessElektrad, InProcessNetwork

from ..conftest import Register
from ..fakes import Client
from .conftest import DRIFT_KEY as KEY
from .conftest import ClusterSync
from .waiting import data_of, eventually, next_event


async def caught_up(
    service: ConvergingClusterService, network: InProcessNetwork, member: int, endpoint: str,
    registry: Registry,
) -> None:  # fmt: skip
    """Run the member's catch-up (full sync, then the drift check, which reads its keys) as
    when it comes back online, and wait until its drift check has read them."""
    seen = len(network.ops(endpoint))
    await service.on_status(registry.instance(member), True)
    await eventually(lambda: "get" in network.ops(endpoint)[seen:])


async def test_convergence_and_drift_keep_a_canary_where_it_is(
    cluster_sync: ClusterSync,
    admin: Client,
    register: Register,
    network: InProcessNetwork,
    service: ConvergingClusterService,
    registry: Registry,
    hub: EventHub,
) -> None:
    cluster = (await admin.post("/api/clusters", {"name": "edge"})).body
    prefix = f"/api/clusters/{cluster['id']}"
    members: list[tuple[int, InProcessElektrad]] = []
    for number in (1, 2):
        instance = await register(f"edge-{number}", 44000 + number)
        await admin.post(f"{prefix}/instances", {"instance": instance["id"]})
        members.append((instance["id"], network[instance["endpoint"]]))
    (canary, on_canary), (held, on_held) = members
    await admin.put(f"{prefix}/kdb/{KEY}", "8080")
    await admin.post(f"{prefix}/draft", {"op": "set", "key": KEY, "value": "9090"})
    release = await admin.post(f"{prefix}/draft/publish", {"message": "m", "canary": [canary]})
    assert release.status == 201, release.body

    for member, daemon in members:
        await caught_up(service, network, member, daemon.endpoint, registry)
    assert (on_canary.keys[KEY][0], on_held.keys[KEY][0]) == ("9090", "8080")
    status = cluster_sync(cluster["id"])
    assert status["state"] == "in-sync", status

    with hub.subscribe([f"cluster/{cluster['id']}/drift/"]) as drifts:
        event = await on_held.change_behind_its_back(KEY, "1")
        service.on_event(registry.instance(held), event)
        restored = await next_event(drifts)
        assert data_of(restored)["desired"] == {"value": "8080", "meta": {}}
        assert on_held.keys[KEY][0] == "8080"

        event = await on_canary.change_behind_its_back(KEY, "2")
        service.on_event(registry.instance(canary), event)
        restored = await next_event(drifts)
        assert data_of(restored)["desired"] == {"value": "9090", "meta": {}}
        assert on_canary.keys[KEY][0] == "9090"

    promoted = await admin.post(f"{prefix}/releases/{release.body['id']}/promote")
    assert promoted.status == 200, promoted.body
    assert on_held.keys[KEY][0] == "9090"
    assert cluster_sync(cluster["id"])["state"] == "in-sync"

"""Members converge without anyone asking: on joining, on returning, after a clusterd restart,
and by the periodic reconcile."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.config import Config
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.services import ClusterServiceFactory
from elektraweb.cluster.store.registry import Registry
from support.inprocess import InProcessElektrad, InProcessNetwork

from ..conftest import Register
from ..fakes import Client
from .conftest import ClusterSync
from .waiting import audited_unlocks, eventually


@pytest.fixture
def cluster_service(hub: EventHub) -> ClusterServiceFactory:
    """Reconciling every 50 ms once started (only the periodic reconcile's test starts it)."""
    return lambda services: ConvergingClusterService(services, hub=hub, reconcile_seconds=0.05)


@pytest.fixture
async def duo(admin: Client, register: Register, network: InProcessNetwork) -> dict[str, Any]:
    """Cluster `db` with members db-1 and db-2."""
    cluster = (await admin.post("/api/clusters", {"name": "db"})).body
    members: list[int] = []
    for index in (1, 2):
        instance = await register(f"db-{index}", 43000 + index)
        await admin.post(f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]})
        members.append(instance["id"])
    return {
        "id": cluster["id"],
        "url": f"/api/clusters/{cluster['id']}",
        "members": members,
        "daemons": [network[f"tcp://127.0.0.1:{43000 + i}"] for i in (1, 2)],
    }


def values(daemon: InProcessElektrad) -> dict[str, tuple[str | None, dict[str, str]]]:
    return dict(daemon.keys)


async def test_a_member_that_was_offline_receives_everything_it_missed(
    cluster_sync: ClusterSync,
    admin: Client,
    duo: dict[str, Any],
    service: ConvergingClusterService,
    registry: Registry,
) -> None:
    url = duo["url"]
    await admin.put(f"{url}/kdb/user:/db/size", "10")
    await admin.put(f"{url}/kdb/user:/db/old", "x")
    await admin.post(f"{url}/kdbMeta/user:/db/size", {"key": "description", "value": "GB"})
    online, away = duo["daemons"]
    away.faults.unreachable = True

    await admin.put(f"{url}/kdb/user:/db/size", "20")
    await admin.request("DELETE", f"{url}/kdbMeta/user:/db/size", {"key": "description"})
    await admin.delete(f"{url}/kdb/user:/db/old")
    await admin.put(f"{url}/kdb/user:/db/new", "y")
    member = service.member_status(registry.instance(duo["members"][1]))
    assert member is not None and (member["state"], member["pending"]) == ("pending", 3)
    assert cluster_sync(duo["id"])["state"] == "pending"

    away.faults.unreachable = False
    await service.on_status(registry.instance(duo["members"][1]), True)
    await eventually(lambda: cluster_sync(duo["id"])["state"] == "in-sync")
    assert values(away) == values(online)
    assert values(away) == {"user:/db/size": ("20", {}), "user:/db/new": ("y", {})}
    # The lock of the removed key is released last, after the removal.
    await eventually(lambda: set(away.locked) == {"user:/db/size", "user:/db/new"})


async def test_pending_changes_survive_a_restart_of_clusterd(
    admin: Client,
    duo: dict[str, Any],
    server: Server,
    config: Config,
    gateway: WireGateway,
    cluster_service: ClusterServiceFactory,
) -> None:
    away = duo["daemons"][0]
    away.faults.unreachable = True
    await admin.put(f"{duo['url']}/kdb/system:/db/port", "5432")
    await server.stop()

    away.faults.unreachable = False
    restarted = Server(config, gateway=gateway, cluster_service=cluster_service)
    await restarted.start()
    try:
        assert restarted.services is not None
        service = restarted.services.cluster_service
        assert isinstance(service, ConvergingClusterService)
        member = restarted.services.registry.instance(duo["members"][0])
        cluster = restarted.services.registry.cluster(duo["id"])
        assert service.cluster_status(cluster)["members"][str(member.id)]["pending"] == 1
        await service.on_status(member, True)  # the feed reports the link up after a start
        await eventually(lambda: away.keys.get("system:/db/port") == ("5432", {}))
        await service.close()
    finally:
        await restarted.stop()


async def test_a_new_member_receives_the_whole_cluster_state(
    admin: Client, duo: dict[str, Any], register: Register, network: InProcessNetwork
) -> None:
    url = duo["url"]
    await admin.put(
        f"{url}/kdbAll/user:/db",
        {
            "keys": [
                {"name": "user:/db/size", "value": "10", "meta": {"check/type": "long"}},
                {"name": "user:/db/name", "value": "main"},
            ]
        },
    )
    newcomer = await register("db-3", 43003)
    daemon: InProcessElektrad = network["tcp://127.0.0.1:43003"]
    await daemon.kdb_set("user:/db/name", "its own", {"description": "kept"})
    await daemon.kdb_set("user:/db/local", "its own", {})

    joined = await admin.post(f"{url}/instances", {"instance": newcomer["id"]})
    assert joined.status == 201
    assert joined.body["apply"] == {"name": "db-3", "status": "applied", "keys": 2}
    assert daemon.keys == {
        "user:/db/size": ("10", {"check/type": "long"}),
        "user:/db/name": ("main", {"description": "kept"}),  # the cluster sets no description
        "user:/db/local": ("its own", {}),
    }
    assert set(daemon.locked) == {"user:/db/size", "user:/db/name"}


async def test_a_member_that_leaves_while_offline_is_unlocked_when_it_returns(
    admin: Client, duo: dict[str, Any], service: ConvergingClusterService, registry: Registry
) -> None:
    await admin.put(f"{duo['url']}/kdb/user:/db/size", "10")
    leaving = duo["daemons"][0]
    leaving.faults.unreachable = True

    left = await admin.delete(f"{duo['url']}/instances/{duo['members'][0]}")
    assert left.status == 200
    assert left.body["unlock"]["ok"] is False
    assert "when it returns" in left.body["unlock"]["error"]["message"]
    assert leaving.locked == {"user:/db/size": str(duo["id"])}

    leaving.faults.unreachable = False
    await service.on_status(registry.instance(duo["members"][0]), True)
    unlocks = await eventually(lambda: audited_unlocks(admin, duo["members"][0]))
    assert [(e["user"], e["before"], e["result"]["reason"]) for e in unlocks] == [
        ("clusterd", {"cluster": duo["id"], "locked": 1}, "left it while offline")
    ]
    assert leaving.locked == {}
    assert leaving.keys["user:/db/size"] == ("10", {})


async def test_a_returning_member_keeps_its_clusters_locks_and_loses_another_clusters(
    admin: Client,
    duo: dict[str, Any],
    service: ConvergingClusterService,
    registry: Registry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await admin.put(f"{duo['url']}/kdb/user:/db/size", "10")
    other = (await admin.post("/api/clusters", {"name": "other"})).body["id"]
    member = duo["daemons"][0]
    # Left behind by a cluster clusterd no longer knows it owes an unlock for, and one that
    # is no cluster of clusterd's.
    await member.lock("user:/db/stale", cluster=str(other))
    await member.lock("user:/db/foreign", cluster="another")

    caplog.set_level(logging.INFO, logger="elektraweb.cluster.clusters.unlocks")
    await service.on_status(registry.instance(duo["members"][0]), True)
    # Recorded once released; its own cluster, were it released, would have come first.
    unlocks = await eventually(lambda: audited_unlocks(admin, duo["members"][0]))
    assert [(e["result"]["cluster"], e["result"]["reason"]) for e in unlocks] == [
        (other, "not a member")
    ]
    assert member.locked == {"user:/db/size": str(duo["id"]), "user:/db/foreign": "another"}
    released = [r.getMessage() for r in caplog.records if "released cluster" in r.getMessage()]
    assert released == [
        f"instance {duo['members'][0]}: released cluster {other}'s locks (1 keys; not a member)"
    ]


async def test_a_refused_change_is_retried_when_the_member_returns_not_on_every_write(
    cluster_sync: ClusterSync,
    admin: Client,
    duo: dict[str, Any],
    service: ConvergingClusterService,
    registry: Registry,
    network: InProcessNetwork,
) -> None:
    fussy = duo["daemons"][0]
    await fussy.kdb_set("user:/db/size", "1", {"check/type": "long"})
    await admin.put(f"{duo['url']}/kdb/user:/db/size", "big")
    network.calls.clear()

    await admin.put(f"{duo['url']}/kdb/user:/db/other", "1")
    sent = [
        call.args["key"]
        for call in network.calls
        if call.endpoint == fussy.endpoint and call.op == "set"
    ]
    assert sent == ["user:/db/other"]

    await fussy.kdb_set("user:/db/size", "1", {})  # the host's spec changed
    await service.on_status(registry.instance(duo["members"][0]), True)
    await eventually(lambda: fussy.keys["user:/db/size"] == ("big", {}))
    await eventually(lambda: cluster_sync(duo["id"])["state"] == "in-sync")


async def test_the_periodic_reconcile_converges_members_nobody_reported(
    admin: Client, duo: dict[str, Any], service: ConvergingClusterService
) -> None:
    away = duo["daemons"][1]
    away.faults.unreachable = True
    await admin.put(f"{duo['url']}/kdb/user:/db/size", "30")
    away.faults.unreachable = False
    service.start()
    try:
        await eventually(lambda: away.keys.get("user:/db/size") == ("30", {}))
    finally:
        await service.close()

"""Cluster routes with a cluster service plugged in: requests reach it, member writes honour its
locks before anything reaches the instance, membership changes are reported to it, and the
registry shows its sync states next to each instance's live link status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from elektraweb.cluster.api.clusters import CLUSTER
from elektraweb.cluster.api.instances import INSTANCE
from elektraweb.cluster.api.schema import problem
from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.instances.gateway import InstanceUnreachable
from elektraweb.cluster.services import ClusterServiceFactory
from elektraweb.cluster.store.registry import Registry
from support.inprocess import InProcessNetwork

from ..clusters.waiting import eventually
from ..conftest import Register
from ..fakes import Client, FakeClusterService

KEY = "system:/app/port"
IN_SYNC = {"state": "in-sync", "pending": 0, "rejected": {}, "drift": []}

# The real cluster service in front of the fake daemons, instead of FakeClusterService.
with_converging_cluster_service = pytest.mark.parametrize(
    "cluster_service", [ConvergingClusterService], ids=["ConvergingClusterService"]
)


@pytest.fixture
def cluster_service() -> ClusterServiceFactory:
    return FakeClusterService


@pytest.fixture
def service(server: Server) -> FakeClusterService:
    services = server.services
    assert services is not None
    assert isinstance(services.cluster_service, FakeClusterService)
    return services.cluster_service


@pytest.fixture
def registry(server: Server) -> Registry:
    assert server.services is not None
    return server.services.registry


@pytest.fixture
async def cluster(admin: Client, register: Register) -> dict[str, Any]:
    """Cluster `prod` with instance `web-1` as member."""
    instance = await register("web-1", 40001)
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    joined = await admin.post(
        f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]}
    )
    assert joined.status == 201
    return {**joined.body["cluster"], "member": instance["id"], "apply": joined.body["apply"]}


async def test_a_new_member_is_handed_to_the_cluster_service(
    cluster: dict[str, Any], service: FakeClusterService
) -> None:
    assert service.joined == [(cluster["id"], cluster["member"])]
    assert cluster["apply"] == {"name": "web-1", "status": "pending", "keys": 0}


async def test_cluster_writes_go_to_the_cluster_service_and_are_audited(
    admin: Client, cluster: dict[str, Any], service: FakeClusterService
) -> None:
    answer = await admin.put(f"/api/clusters/{cluster['id']}/kdb/user:/app/port", "8080")
    assert answer.status == 200
    assert answer.body == {"members": {str(cluster["member"]): {"name": "", "status": "applied"}}}
    assert "set" in [op for _, op, _ in service.calls]

    read = await admin.get(f"/api/clusters/{cluster['id']}/kdb/user:/app/port")
    assert read.body["value"] == "8080"

    entry = (await admin.get(f"/api/audit?cluster={cluster['id']}&key=user:/app")).body[0]
    assert entry["action"] == "set"
    assert entry["before"] is None
    assert entry["after"] == {"value": "8080", "meta": {}}
    assert entry["result"]["reply"] == answer.body


async def test_a_key_owned_by_the_cluster_is_locked_on_its_member(
    admin: Client, cluster: dict[str, Any], network: InProcessNetwork
) -> None:
    await admin.put(f"/api/clusters/{cluster['id']}/kdb/user:/app/port", "8080")
    member = f"/api/instances/{cluster['member']}"
    network.calls.clear()

    locked = await admin.put(f"{member}/kdb/user:/app/port", "9")
    assert locked.status == 423
    assert locked.body["error"]["cluster"] == cluster["id"]
    assert network.ops() == []  # refused before it reached the instance

    free = await admin.put(f"{member}/kdb/user:/app/other", "9")
    assert free.status == 200


async def test_leaving_deleting_and_removing_members_release_them(
    admin: Client, cluster: dict[str, Any], register: Register, service: FakeClusterService
) -> None:
    second = await register("web-2", 40002)
    await admin.post(f"/api/clusters/{cluster['id']}/instances", {"instance": second["id"]})

    left = await admin.delete(f"/api/clusters/{cluster['id']}/instances/{second['id']}")
    assert left.body["unlock"] == {"ok": True}
    assert service.left == [(cluster["id"], second["id"])]

    await admin.delete(f"/api/instances/{cluster['member']}")
    assert service.left[-1] == (cluster["id"], cluster["member"])

    await admin.post(f"/api/clusters/{cluster['id']}/instances", {"instance": second["id"]})
    await admin.delete(f"/api/clusters/{cluster['id']}")
    assert service.left[-1] == (cluster["id"], second["id"])


async def test_an_unreachable_member_still_leaves(
    admin: Client,
    cluster: dict[str, Any],
    network: InProcessNetwork,
    service: FakeClusterService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def unreachable(*_: Any) -> None:
        raise InstanceUnreachable("connection refused")

    monkeypatch.setattr(service, "member_left", unreachable)
    left = await admin.delete(f"/api/clusters/{cluster['id']}/instances/{cluster['member']}")
    assert left.status == 200
    assert left.body["unlock"]["ok"] is False
    assert left.body["unlock"]["error"]["code"] == "unreachable"
    assert (await admin.get(f"/api/instances/{cluster['member']}")).body["cluster"] is None


async def test_instances_and_clusters_show_the_cluster_services_sync_state(
    admin: Client, cluster: dict[str, Any], register: Register
) -> None:
    await admin.put(f"/api/clusters/{cluster['id']}/kdb/user:/app/port", "8080")
    pending = {**IN_SYNC, "state": "pending", "pending": 1}  # the fake applies nothing
    await admin.get(f"/api/instances/{cluster['member']}/kdb/user:/")  # the link is up now

    member = (await admin.get(f"/api/instances/{cluster['member']}")).body
    assert member["sync"] == {"cluster": cluster["id"], **pending}
    assert member["status"]["online"] is True
    loner = await register("web-2", 40002)
    assert loner["sync"] is None

    shown = (await admin.get(f"/api/clusters/{cluster['id']}")).body
    assert shown["sync"] == {
        "state": "pending",
        "keys": 1,
        "members": {str(cluster["member"]): pending},
    }
    assert (await admin.get("/api/clusters")).body == [shown]


async def test_membership_answers_carry_the_members_own_state_not_every_members(
    admin: Client, cluster: dict[str, Any], register: Register
) -> None:
    # Every member's state in each join's answer cost O(members) per join (docs/api.md).
    second = await register("web-2", 40002)
    path = f"/api/clusters/{cluster['id']}/instances"

    joined = (await admin.post(path, {"instance": second["id"]})).body

    assert joined["cluster"]["members"] == [cluster["member"], second["id"]]
    assert "sync" not in joined["cluster"]
    assert joined["instance"]["sync"]["cluster"] == cluster["id"]
    shown = (await admin.get(f"/api/clusters/{cluster['id']}")).body
    assert set(shown["sync"]["members"]) == {str(cluster["member"]), str(second["id"])}
    left = (await admin.delete(f"{path}/{second['id']}")).body
    assert left["cluster"]["members"] == [cluster["member"]]
    assert "sync" not in left["cluster"]
    assert left["instance"]["sync"] is None


async def registered(admin: Client, kind: str, id_: int) -> dict[str, Any]:
    """GET one instance or cluster, checked against the schema its route documents."""
    answer = await admin.get(f"/api/{kind}/{id_}")
    assert answer.status == 200, answer.body
    assert problem(answer.body, INSTANCE if kind == "instances" else CLUSTER, kind) is None
    body: dict[str, Any] = answer.body
    return body


@pytest.fixture
async def pair(admin: Client, register: Register, network: InProcessNetwork) -> dict[str, Any]:
    """Cluster `prod` with members web-1 and web-2 holding its key `system:/app/port`."""
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    members = []
    for name, port in (("web-1", 40001), ("web-2", 40002)):
        instance = await register(name, port)
        await admin.post(f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]})
        members.append(instance["id"])
    assert (await admin.put(f"/api/clusters/{cluster['id']}/kdb/{KEY}", "8080")).status == 200
    daemons = [network[f"tcp://127.0.0.1:{port}"] for port in (40001, 40002)]
    return {"id": cluster["id"], "members": members, "daemons": daemons}


@pytest.fixture
async def configuration(server: Server) -> AsyncIterator[ConvergingClusterService]:
    """The real cluster service (with `with_converging_cluster_service`); its background syncs end
    before clusterd stops."""
    assert server.services is not None
    service = server.services.cluster_service
    assert isinstance(service, ConvergingClusterService)
    yield service
    await service.close()


async def cluster_state_is(admin: Client, cluster_id: int, state: str) -> bool:
    current: str = (await registered(admin, "clusters", cluster_id))["sync"]["state"]
    return current == state


@with_converging_cluster_service
async def test_a_member_that_is_down_is_shown_offline_and_pending_until_it_catches_up(
    admin: Client, pair: dict[str, Any], configuration: ConvergingClusterService, registry: Registry
) -> None:
    first, second = pair["members"]
    cluster = await registered(admin, "clusters", pair["id"])
    assert cluster["sync"] == {
        "state": "in-sync",
        "keys": 1,
        "members": {str(first): IN_SYNC, str(second): IN_SYNC},
    }
    member = await registered(admin, "instances", second)
    assert member["sync"] == {"cluster": pair["id"], **IN_SYNC}
    assert member["status"]["online"] is True

    pair["daemons"][1].faults.unreachable = True
    await admin.put(f"/api/clusters/{pair['id']}/kdb/{KEY}", "9090")
    down = await registered(admin, "instances", second)
    assert down["status"]["online"] is False
    assert down["status"]["last_error"] == "connection refused"
    assert down["status"]["offline_since"] is not None
    assert down["sync"] == {"cluster": pair["id"], **IN_SYNC, "state": "pending", "pending": 1}
    cluster = await registered(admin, "clusters", pair["id"])
    assert cluster["sync"]["state"] == "pending"
    assert cluster["sync"]["members"][str(first)] == IN_SYNC

    pair["daemons"][1].faults.unreachable = False
    await configuration.on_status(registry.instance(second), True)  # as the feed reports it
    await eventually(lambda: cluster_state_is(admin, pair["id"], "in-sync"))
    assert pair["daemons"][1].keys[KEY] == ("9090", {})


@with_converging_cluster_service
async def test_drift_that_could_not_be_restored_is_shown_until_it_is(
    admin: Client, pair: dict[str, Any], configuration: ConvergingClusterService, registry: Registry
) -> None:
    member, daemon = pair["members"][0], pair["daemons"][0]
    instance = registry.instance(member)
    local_set = await daemon.change_behind_its_back(KEY, "1")  # a `kdb set` on the host
    configuration.on_event(instance, local_set)
    daemon.faults.unreachable = True  # gone before the restore gets to run

    async def drift_recorded() -> bool:
        entries = (await admin.get(f"/api/audit?instance={member}&key={KEY}")).body
        return any(entry["action"] == "drift" for entry in entries)

    await eventually(drift_recorded)
    drifted = await registered(admin, "instances", member)
    assert drifted["sync"] == {
        "cluster": pair["id"],
        "state": "drift",
        "pending": 1,  # the cluster's key, to put back
        "rejected": {},
        "drift": [KEY],
    }
    assert drifted["status"]["online"] is False
    assert drifted["status"]["offline_since"] is not None
    cluster = await registered(admin, "clusters", pair["id"])
    assert cluster["sync"]["state"] == "drift"
    assert cluster["sync"]["members"][str(pair["members"][1])] == IN_SYNC

    daemon.faults.unreachable = False
    await configuration.on_status(instance, True)
    await eventually(lambda: cluster_state_is(admin, pair["id"], "in-sync"))
    assert daemon.keys[KEY] == ("8080", {})

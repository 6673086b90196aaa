"""Cluster routes with a cluster service plugged in: requests reach it, member writes honour its
locks before anything reaches the instance, and membership changes are reported to it."""

from __future__ import annotations

from typing import Any

import pytest

from elektraweb.cluster.gateway import InstanceUnreachable
from elektraweb.cluster.services import ClusterConfigFactory, Services

from .fakes import Client, FakeClusterConfig, FakeGateway


@pytest.fixture
def cluster_config() -> ClusterConfigFactory:
    return FakeClusterConfig


@pytest.fixture
def service(server) -> FakeClusterConfig:
    services: Services = server.services
    assert isinstance(services.cluster_config, FakeClusterConfig)
    return services.cluster_config


@pytest.fixture
async def cluster(admin: Client, register) -> dict[str, Any]:
    """Cluster `prod` with instance `web-1` as member."""
    instance = await register("web-1", 40001)
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    joined = await admin.post(
        f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]}
    )
    assert joined.status == 201
    return {**joined.body["cluster"], "member": instance["id"], "apply": joined.body["apply"]}


async def test_a_new_member_is_handed_to_the_cluster_service(cluster, service) -> None:
    assert service.joined == [(cluster["id"], cluster["member"])]
    assert cluster["apply"] == {"applied": 0}


async def test_cluster_writes_go_to_the_cluster_service_and_are_audited(
    admin: Client, cluster, service
) -> None:
    answer = await admin.put(f"/api/clusters/{cluster['id']}/kdb/user:/app/port", "8080")
    assert answer.status == 200
    assert answer.body == {"members": {str(cluster["member"]): "applied"}}
    assert "set" in [op for _, op, _ in service.calls]

    read = await admin.get(f"/api/clusters/{cluster['id']}/kdb/user:/app/port")
    assert read.body["value"] == "8080"

    entry = (await admin.get(f"/api/audit?cluster={cluster['id']}&key=user:/app")).body[0]
    assert entry["action"] == "set"
    assert entry["before"] is None
    assert entry["after"] == {"value": "8080", "meta": {}}
    assert entry["result"]["reply"] == answer.body


async def test_a_key_owned_by_the_cluster_is_locked_on_its_member(
    admin: Client, cluster, gateway: FakeGateway
) -> None:
    await admin.put(f"/api/clusters/{cluster['id']}/kdb/user:/app/port", "8080")
    member = f"/api/instances/{cluster['member']}"
    gateway.calls.clear()

    locked = await admin.put(f"{member}/kdb/user:/app/port", "9")
    assert locked.status == 423
    assert locked.body["error"]["cluster"] == cluster["id"]
    assert gateway.calls == []  # refused before it reached the instance

    free = await admin.put(f"{member}/kdb/user:/app/other", "9")
    assert free.status == 200


async def test_leaving_deleting_and_removing_members_release_them(
    admin: Client, cluster, register, service
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
    admin: Client, cluster, gateway: FakeGateway, service
) -> None:
    async def unreachable(*_: Any) -> None:
        raise InstanceUnreachable("connection refused")

    service.member_left = unreachable
    left = await admin.delete(f"/api/clusters/{cluster['id']}/instances/{cluster['member']}")
    assert left.status == 200
    assert left.body["unlock"]["ok"] is False
    assert left.body["unlock"]["error"]["code"] == "unreachable"
    assert (await admin.get(f"/api/instances/{cluster['member']}")).body["cluster"] is None

"""Issue 12: a revert, a point-in-time rollback and a release change critical keys as any write
does. Without a reason each is refused (400 `reason-required`, naming the key) before anything
is written: by elektrad in the restore's transaction for an instance, by clusterd before the
fan-out for a cluster. With one (`?reason=`; a release's message) it succeeds and the audit
row keeps it. Through elektrad's real service and files."""

from __future__ import annotations

from typing import Any

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.services import ClusterServiceFactory
from support.zws import open_zws

from ..fakes import Answer, Client
from .conftest import Registered

HOST = "user:/app/db/host"
SECRET = "system:/app/secret"
LONG_AGO = "2000-01-01T00:00:00Z"


@pytest.fixture
def cluster_service() -> ClusterServiceFactory:
    return ConvergingClusterService


def refused_for(answer: Answer, key: str) -> None:
    assert answer.status == 400, answer.body
    assert answer.body["error"]["code"] == "reason-required", answer.body
    assert answer.body["error"]["key"] == key


async def newest(admin: Client, target: str) -> dict[str, Any]:
    entry: dict[str, Any] = (await admin.get(f"/api/history?{target}&limit=1")).body[0]
    return entry


async def test_an_instance_revert_or_rollback_of_a_critical_key_needs_a_reason(
    admin: Client, web1: Registered
) -> None:
    instance, prefix, daemon = web1.id, web1.prefix, web1.daemon
    await daemon.kdb_set("spec:/app/db/host", "", {"critical": "1"})
    assert (await admin.put(f"{prefix}/kdb/{HOST}?reason=failover", "db2")).status == 200
    changed = await newest(admin, f"instance={instance}")

    refused_for(await admin.post(f"/api/history/{changed['id']}/revert"), HOST)
    assert daemon.keys[HOST][0] == "db2"
    # A preview with the reason shows the change as the revert would make it, and makes none.
    previewed = await admin.post(f"/api/history/{changed['id']}/revert?preview=true&reason=x")
    assert previewed.status == 200, previewed.body
    [target] = previewed.body["targets"]
    assert [change["key"] for change in target["changes"]] == [HOST], target
    assert daemon.keys[HOST][0] == "db2"
    reverted = await admin.post(f"/api/history/{changed['id']}/revert?reason=db1%20is%20back")
    assert reverted.status == 200, reverted.body
    assert daemon.keys[HOST][0] == "db1"
    entry = await newest(admin, f"instance={instance}")
    assert (entry["action"], entry["args"]["reason"]) == ("revert", "db1 is back")

    assert (await admin.put(f"{prefix}/kdb/{HOST}?reason=migrated", "db3")).status == 200
    body = {"key": "user:/app/db", "at": LONG_AGO}
    refused_for(await admin.post(f"{prefix}/rollback", body), HOST)
    assert daemon.keys[HOST][0] == "db3"
    rolled = await admin.post(f"{prefix}/rollback?reason=as%20before%20the%20migration", body)
    assert rolled.status == 200, rolled.body
    assert daemon.keys[HOST][0] == "db1"
    entry = await newest(admin, f"instance={instance}")
    assert (entry["action"], entry["args"]["reason"]) == ("rollback", "as before the migration")


async def cluster_of(admin: Client, web1: Registered) -> str:
    """Cluster `prod` with web-1 as its member, whose spec marks SECRET critical; SECRET is
    set to `s3cret` through the cluster."""
    await web1.daemon.kdb_set("spec:/app/secret", "", {"critical": "1"})
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body["id"]
    joined = await admin.post(f"/api/clusters/{cluster}/instances", {"instance": web1.id})
    assert joined.status == 201, joined.body
    prefix = f"/api/clusters/{cluster}"
    assert (await admin.put(f"{prefix}/kdb/{SECRET}?reason=first", "s3cret")).status == 200
    return prefix


async def test_a_cluster_revert_or_rollback_of_a_critical_key_needs_a_reason_over_zws(
    server: Server, admin: Client, web1: Registered
) -> None:
    prefix = await cluster_of(admin, web1)
    cluster = prefix.rsplit("/", 1)[1]
    assert (await admin.put(f"{prefix}/kdb/{SECRET}?reason=rotate", "n3w")).status == 200
    changed = await newest(admin, f"cluster={cluster}")
    revert = f"/api/history/{changed['id']}/revert"
    zws = await open_zws(admin.session, server.url.replace("http", "ws", 1) + "/zmq")
    try:
        refused = await zws.request(b"1", {"method": "POST", "path": revert})
        on_member = web1.daemon.keys[SECRET][0]
        given = await zws.request(b"2", {"method": "POST", "path": f"{revert}?reason=undo"})
    finally:
        await zws.ws.close()
    assert refused["status"] == 400, refused
    assert refused["body"]["error"]["code"] == "reason-required"
    assert refused["body"]["error"]["key"] == SECRET
    assert on_member == "n3w"
    assert given["status"] == 200, given
    assert (await admin.get(f"{prefix}/kdb/{SECRET}")).body["value"] == "s3cret"
    assert web1.daemon.keys[SECRET][0] == "s3cret"
    entry = await newest(admin, f"cluster={cluster}")
    assert (entry["action"], entry["args"]["reason"]) == ("revert", "undo")

    # The refusal comes before the fan-out and before the desired state changes.
    body = {"key": "system:/app", "at": LONG_AGO}
    refused_for(await admin.post(f"{prefix}/rollback", body), SECRET)
    assert (await admin.get(f"{prefix}/kdb/{SECRET}")).body["value"] == "s3cret"
    assert web1.daemon.keys[SECRET][0] == "s3cret"
    assert (await newest(admin, f"cluster={cluster}"))["id"] == entry["id"]
    rolled = await admin.post(f"{prefix}/rollback?reason=retired", body)
    assert rolled.status == 200, rolled.body
    assert SECRET not in web1.daemon.keys


async def test_a_release_s_message_is_its_reason_and_its_rollback_needs_one(
    admin: Client, web1: Registered
) -> None:
    prefix = await cluster_of(admin, web1)
    cluster = prefix.rsplit("/", 1)[1]
    drafted = await admin.post(f"{prefix}/draft", {"op": "set", "key": SECRET, "value": "n3w"})
    assert drafted.status == 201, drafted.body
    message = "rotate the secret after the leak"
    published = await admin.post(f"{prefix}/draft/publish", {"message": message})
    assert published.status == 201, published.body
    assert web1.daemon.keys[SECRET][0] == "n3w"
    release = await newest(admin, f"cluster={cluster}")
    assert (release["action"], release["args"]["reason"]) == ("release", message)

    rollback = f"{prefix}/releases/{published.body['id']}/rollback"
    refused_for(await admin.post(rollback), SECRET)
    assert web1.daemon.keys[SECRET][0] == "n3w"
    listed = (await admin.get(f"{prefix}/releases")).body
    assert listed[0]["state"] == "published"
    rolled = await admin.post(f"{rollback}?reason=the%20new%20one%20leaked%20too")
    assert rolled.status == 200, rolled.body
    assert rolled.body["state"] == "rolled-back"
    assert web1.daemon.keys[SECRET][0] == "s3cret"
    entry = await newest(admin, f"cluster={cluster}")
    assert (entry["action"], entry["args"]["reason"]) == ("revert", "the new one leaked too")

"""A cluster's keys through clusterd's routes: desired state, fan-out, locks, leaving."""

from __future__ import annotations

from typing import Any

import pytest

from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import RecordNotFound
from elektraweb.cluster.store.registry import Registry
from support.inprocess import InProcessElektrad, InProcessNetwork

from ..conftest import Register
from ..fakes import Client
from .conftest import DRIFT_KEY, ClusterSync
from .waiting import data_of, next_event


@pytest.fixture
async def prod(admin: Client, register: Register, network: InProcessNetwork) -> dict[str, Any]:
    """Cluster `prod` with members web-1 and web-2; `daemons` by member id."""
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    daemons: dict[int, InProcessElektrad] = {}
    for name, port in (("web-1", 41001), ("web-2", 41002)):
        instance = await register(name, port)
        joined = await admin.post(
            f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]}
        )
        assert joined.status == 201, joined.body
        daemons[instance["id"]] = network[f"tcp://127.0.0.1:{port}"]
    return {"id": cluster["id"], "url": f"/api/clusters/{cluster['id']}", "daemons": daemons}


def member_url(member: int) -> str:
    return f"/api/instances/{member}"


async def test_a_set_reaches_every_member_locked_and_answers_per_member(
    admin: Client, prod: dict[str, Any]
) -> None:
    answer = await admin.put(f"{prod['url']}/kdb/system:/app/port", "8080")
    assert answer.status == 200, answer.body
    assert answer.body["key"] == "system:/app/port"
    assert answer.body["created"] is True
    assert {m: r["status"] for m, r in answer.body["members"].items()} == {
        str(member): "applied" for member in prod["daemons"]
    }
    for daemon in prod["daemons"].values():
        assert daemon.keys["system:/app/port"] == ("8080", {})
        assert daemon.locked == {"system:/app/port": str(prod["id"])}

    read = await admin.get(f"{prod['url']}/kdb/system:/app?preload=1")
    assert read.body["exists"] is False
    assert read.body["ls"] == ["system:/app/port"]
    assert read.body["children"][0]["value"] == "8080"


async def test_cluster_reads_answer_from_the_desired_state_alone(
    admin: Client, prod: dict[str, Any], network: InProcessNetwork
) -> None:
    await admin.put(
        f"{prod['url']}/kdbAll/user:/app",
        {
            "keys": [
                {"name": "user:/app/a", "value": "1", "meta": {"description": "first"}},
                {"name": "user:/app/b/c", "value": "needle"},
            ]
        },
    )
    network.calls.clear()
    for daemon in prod["daemons"].values():
        daemon.faults.unreachable = True

    cascading = (await admin.get(f"{prod['url']}/kdb//app/a")).body
    assert (cascading["value"], cascading["resolved"]) == ("1", "user:/app/a")
    listing = (await admin.get(f"{prod['url']}/kdbLs/user:/app?depth=1")).body
    assert listing == {"keys": ["user:/app/a", "user:/app/b"], "next": None}
    found = (await admin.get(f"{prod['url']}/kdbFind/needle?values=true")).body
    assert found == {"keys": ["user:/app/b/c"], "truncated": False, "budget_exceeded": False}
    exported = (await admin.get(f"{prod['url']}/kdbExport/user:/app?format=ini")).body
    assert "a = 1" in exported["data"] and "needle" in exported["data"]
    assert network.calls == []


async def test_a_change_every_member_refuses_leaves_the_desired_state_alone(
    admin: Client, prod: dict[str, Any]
) -> None:
    await admin.put(f"{prod['url']}/kdb/user:/app/port", "80")
    for daemon in prod["daemons"].values():
        await daemon.kdb_set("user:/app/port", "80", {"check/type": "long"})

    refused = await admin.put(f"{prod['url']}/kdb/user:/app/port", "eighty")
    assert refused.status == 400
    error = refused.body["error"]
    assert (error["code"], error["key"], error["elektra"]) == (
        "validation",
        "user:/app/port",
        "C03200",
    )
    assert "eighty" in error["message"] and "'prod'" in error["message"]
    assert {r["status"] for r in error["members"].values()} == {"rejected"}
    assert (await admin.get(f"{prod['url']}/kdb/user:/app/port")).body["value"] == "80"


async def test_a_change_some_members_refuse_is_kept_and_shown_as_rejected(
    cluster_sync: ClusterSync,
    admin: Client,
    prod: dict[str, Any],
) -> None:
    fussy, easy = prod["daemons"]
    await prod["daemons"][fussy].kdb_set("user:/app/port", "1", {"check/type": "long"})

    answer = await admin.put(f"{prod['url']}/kdb/user:/app/port", "eighty")
    assert answer.status == 200
    members = answer.body["members"]
    assert members[str(fussy)]["status"] == "rejected"
    assert members[str(fussy)]["error"]["code"] == "validation"
    assert members[str(easy)] == {"name": "web-2", "status": "applied"}

    status = cluster_sync(prod["id"])
    assert status["state"] == "rejected"
    assert status["members"][str(fussy)]["rejected"]["user:/app/port"]["code"] == "validation"
    assert status["members"][str(easy)]["state"] == "in-sync"


async def test_cluster_writes_touch_only_the_clusters_keys_on_members(
    admin: Client, prod: dict[str, Any]
) -> None:
    url = prod["url"]
    await admin.put(f"{url}/kdb/user:/app/x", "1")
    await admin.put(f"{url}/kdb/user:/app/sub/y", "2")
    await admin.post(f"{url}/kdbMeta/user:/app/x", {"key": "description", "value": "ex"})
    for member in prod["daemons"]:
        assert (await admin.put(f"{member_url(member)}/kdb/user:/app/local", "mine")).status == 200

    moved = await admin.post(f"{url}/kdbMv/user:/app/sub", "user:/app/moved")
    assert moved.body["moved"] == 1
    await admin.request("DELETE", f"{url}/kdbMeta/user:/app/x", {"key": "description"})
    for daemon in prod["daemons"].values():
        assert daemon.keys["user:/app/moved/y"][0] == "2"
        assert "user:/app/sub/y" not in daemon.keys
        assert daemon.keys["user:/app/x"] == ("1", {})
        assert set(daemon.locked) == {"user:/app/x", "user:/app/moved/y"}

    removed = await admin.delete(f"{url}/kdb/user:/app")
    assert removed.body["removed"] == 2
    for daemon in prod["daemons"].values():
        assert set(daemon.keys) == {"user:/app/local"}
        assert daemon.locked == {}


async def test_import_and_set_all_replace_the_clusters_subtree(
    admin: Client, prod: dict[str, Any]
) -> None:
    url = prod["url"]
    await admin.put(f"{url}/kdb/system:/svc/old", "gone soon")
    imported = await admin.post(
        f"{url}/kdbImport/system:/svc?format=ini&strategy=replace",
        data="host = example.org\nport = 443\n",
        headers={"Content-Type": "text/plain"},
    )
    assert imported.status == 200, imported.body
    assert (imported.body["written"], imported.body["removed"]) == (2, 1)
    for daemon in prod["daemons"].values():
        assert {n: v for n, (v, _) in daemon.keys.items()} == {
            "system:/svc/host": "example.org",
            "system:/svc/port": "443",
        }


async def test_writes_through_a_member_that_touch_cluster_keys_are_refused(
    admin: Client, prod: dict[str, Any], network: InProcessNetwork
) -> None:
    await admin.put(f"{prod['url']}/kdb/user:/app/owned", "cluster's")
    member = next(iter(prod["daemons"]))
    url = member_url(member)
    await admin.put(f"{url}/kdb/user:/other/free", "mine")
    network.calls.clear()

    body: object  # the bodies below are text, JSON objects or none
    for method, path, body in [
        ("PUT", "/kdb/user:/app/owned", "x"),
        ("DELETE", "/kdb/user:/app", None),
        ("POST", "/kdbMv/user:/other/free", "user:/app/owned"),
        ("POST", "/kdbCp/user:/app", "user:/copy"),
        ("POST", "/kdbMeta/user:/app/owned", {"key": "description", "value": "d"}),
        ("PUT", "/kdbAll/user:/app", {"keys": []}),
    ]:
        answer = await admin.request(method, url + path, body)
        assert answer.status == 423, (method, path, answer.body)
        error = answer.body["error"]
        assert (error["key"], error["cluster"]) == ("user:/app/owned", prod["id"])
        assert "'prod'" in error["message"]
    assert network.calls == []  # refused before anything reached the member

    assert (await admin.put(f"{url}/kdb/user:/app/not-owned", "mine")).status == 200


async def test_leaving_unlocks_and_deleting_the_cluster_releases_members(
    admin: Client, prod: dict[str, Any]
) -> None:
    await admin.put(f"{prod['url']}/kdb/user:/app/owned", "cluster's")
    leaving, staying = prod["daemons"]

    left = await admin.delete(f"{prod['url']}/instances/{leaving}")
    assert left.body["unlock"] == {"ok": True}
    assert prod["daemons"][leaving].locked == {}
    assert prod["daemons"][leaving].keys["user:/app/owned"][0] == "cluster's"
    assert (await admin.put(f"{member_url(leaving)}/kdb/user:/app/owned", "mine")).status == 200

    await admin.delete(prod["url"])
    assert prod["daemons"][staying].locked == {}
    assert (await admin.put(f"{member_url(staying)}/kdb/user:/app/owned", "mine")).status == 200


async def test_cluster_writes_are_checked_like_instance_writes(
    admin: Client, prod: dict[str, Any]
) -> None:
    url = prod["url"]
    set_once = await admin.put(f"{url}/kdb/user:/app/port?expect=none", "1")
    assert set_once.status == 200
    again = await admin.put(f"{url}/kdb/user:/app/port?expect=none", "2")
    assert again.status == 409 and again.body["error"]["key"] == "user:/app/port"
    stale = await admin.put(f"{url}/kdb/user:/app/port?expect={'0' * 32}", "2")
    assert stale.status == 409
    current = set_once.body["revision"]
    assert (await admin.put(f"{url}/kdb/user:/app/port?expect={current}", "2")).status == 200

    cascading = await admin.put(f"{url}/kdb//app/port", "3")
    assert cascading.status == 400 and "cascading" in cascading.body["error"]["message"]
    missing = await admin.delete(f"{url}/kdb/user:/nothing")
    assert missing.status == 404
    await admin.put(f"{url}/kdb/user:/app/other", "x")
    clash = await admin.post(f"{url}/kdbCp/user:/app/other", "user:/app/port")
    assert clash.status == 409


async def test_changes_of_the_desired_state_and_sync_states_are_published(
    admin: Client, prod: dict[str, Any], hub: EventHub
) -> None:
    with hub.subscribe([f"cluster/{prod['id']}/"]) as events:
        await admin.put(f"{prod['url']}/kdb/user:/app/port", "8080")
        change = await next_event(events)
        assert change.topic == f"cluster/{prod['id']}/user:/app/port"
        assert change.data["new"] == {"value": "8080", "meta": {}}
        assert change.data["old"] is None
        # One status per write, once every member has answered, however many there are.
        status = await next_event(events)
        assert status.topic == f"cluster/{prod['id']}/status"
        assert status.data["state"] == "in-sync"
        assert status.data["keys"] == 1
        members = data_of(status)["members"]
        assert set(members) == {str(member) for member in prod["daemons"]}
        assert {member["state"] for member in members.values()} == {"in-sync"}

        await admin.put(f"{prod['url']}/kdb/user:/app/host", "db")
        assert (await next_event(events)).topic == f"cluster/{prod['id']}/user:/app/host"
        assert (await next_event(events)).data["keys"] == 2


async def test_a_100_key_import_is_published_as_one_subtree_event(
    admin: Client, prod: dict[str, Any], hub: EventHub
) -> None:
    """Not one event per key: a 20k-key cluster import flooded every subscriber's queue."""
    url = prod["url"]
    await admin.put(f"{url}/kdb/system:/bulk/k000", "before")
    await admin.put(f"{url}/kdb/system:/bulk/old", "gone soon")
    data = "".join(f"k{index:03d} = {index}\n" for index in range(100))
    with hub.subscribe([f"cluster/{prod['id']}/"]) as events:
        imported = await admin.post(
            f"{url}/kdbImport/system:/bulk?format=ini&strategy=replace",
            data=data,
            headers={"Content-Type": "text/plain"},
        )
        assert imported.status == 200, imported.body
        bulk = await next_event(events)
        assert bulk.topic == f"cluster/{prod['id']}/system:/bulk"
        assert data_of(bulk) == {
            "cluster": prod["id"],
            "subtree": "system:/bulk",
            "created": 99,
            "changed": 1,
            "removed": 1,
        }
        status = f"cluster/{prod['id']}/status"
        assert (await next_event(events)).topic == status
        # No key's event was queued, only statuses (throttled, so one may trail): the next
        # write's event is the next that is not a status.
        await admin.put(f"{url}/kdb/system:/bulk/k000", "after")
        following = await next_event(events)
        while following.topic == status:
            following = await next_event(events)
        assert following.topic == f"cluster/{prod['id']}/system:/bulk/k000"
    for daemon in prod["daemons"].values():
        assert len(daemon.keys) == 100
        assert daemon.keys["system:/bulk/k099"] == ("99", {})


async def test_members_that_took_part_of_a_refused_change_are_brought_back(
    admin: Client, prod: dict[str, Any]
) -> None:
    first, second = prod["daemons"].values()
    await first.kdb_set("user:/app/a", "1", {"check/type": "long"})
    await second.kdb_set("user:/app/b", "2", {"check/type": "long"})

    refused = await admin.put(
        f"{prod['url']}/kdbAll/user:/app",
        {"keys": [{"name": "user:/app/a", "value": "x"}, {"name": "user:/app/b", "value": "y"}]},
    )
    assert refused.status == 400
    assert {r["refused"][0] for r in refused.body["error"]["members"].values()} == {
        "user:/app/a",
        "user:/app/b",
    }
    assert first.keys == {"user:/app/a": ("1", {"check/type": "long"})}
    assert second.keys == {"user:/app/b": ("2", {"check/type": "long"})}
    assert first.locked == second.locked == {}
    assert (await admin.get(f"{prod['url']}/kdbLs/user:/")).body["keys"] == []


async def test_reads_follow_every_change_even_of_a_cluster_recreated_under_its_old_id(
    admin: Client,
) -> None:
    """Cluster reads keep the desired state between changes (a large one takes long to build);
    a write, or a cluster deleted and another created with the same id, is seen at once."""
    first = (await admin.post("/api/clusters", {"name": "old"})).body
    url = f"/api/clusters/{first['id']}"
    assert (await admin.put(f"{url}/kdb/user:/app/colour", "blue")).status == 200
    assert (await admin.get(f"{url}/kdbFind/colour")).body["keys"] == ["user:/app/colour"]
    assert (await admin.put(f"{url}/kdb/user:/app/size", "big")).status == 200
    assert (await admin.get(f"{url}/kdbFind/size")).body["keys"] == ["user:/app/size"]

    assert (await admin.delete(url)).status == 200
    second = (await admin.post("/api/clusters", {"name": "new"})).body
    assert second["id"] == first["id"]  # SQLite hands the freed id out again
    assert (await admin.get(f"{url}/kdbFind/.")).body["keys"] == []
    assert (await admin.get(f"{url}/kdb/user:/app/colour")).body["exists"] is False


async def test_an_instance_removed_keeps_no_locks_of_a_cluster_it_joined_meanwhile(
    admin: Client, member: dict[str, Any], server: Server
) -> None:
    """Another replica moves the instance from `edge` to `core` (whose sync locks core's key
    on its daemon) while the removal waits on the daemon's unlock: the daemon is left holding
    no cluster's locks."""
    assert server.services is not None
    daemon: InProcessElektrad = member["daemon"]
    core = (await admin.post("/api/clusters", {"name": "core"})).body["id"]
    elsewhere = Database.open(server.services.config.database)
    moved: list[bool] = []

    async def move_to_core_meanwhile(op: str) -> None:
        if op != "unlock" or moved:
            return
        registry = Registry(elsewhere)
        try:
            registry.leave(member["cluster"], member["id"])
            registry.join(core, member["id"])
        except RecordNotFound:  # removed already: there is nothing to move
            moved.append(False)
            return
        moved.append(True)
        await daemon.lock("system:/app/mode", cluster=str(core))

    daemon.faults.before = move_to_core_meanwhile
    try:
        removed = await admin.delete(f"/api/instances/{member['id']}")
    finally:
        elsewhere.close()

    assert removed.status == 200, removed.body
    assert daemon.locked == {}
    assert daemon.keys[DRIFT_KEY][0] == "8080"  # unlocked, its value stays
    assert (await admin.get(f"/api/instances/{member['id']}")).status == 404
    # Removed before the unlock was sent: the move came too late to happen at all.
    assert moved == [False]

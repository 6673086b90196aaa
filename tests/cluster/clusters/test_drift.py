"""Drift: a locked key changed on a member behind everybody's back is recorded, restored and
published, whether the change feed reports it or the check on reconnect finds it."""

from __future__ import annotations

from typing import Any

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.store.registry import Registry
from elektraweb.kdb import names
from elektraweb.wire import SubtreeEvent
from support.inprocess import InProcessNetwork

from ..fakes import Client
from .conftest import DRIFT_KEY as KEY
from .conftest import ClusterSync
from .waiting import data_of, eventually, next_event


async def drift_entries(admin: Client, member: dict[str, Any]) -> list[dict[str, Any]]:
    entries = (await admin.get(f"/api/audit?instance={member['id']}")).body
    return [entry for entry in entries if entry["action"] == "drift"]


async def test_a_change_behind_the_clusters_back_is_restored_recorded_and_published(
    cluster_sync: ClusterSync,
    admin: Client,
    member: dict[str, Any],
    service: ConvergingClusterService,
    registry: Registry,
    hub: EventHub,
) -> None:
    with hub.subscribe([f"cluster/{member['cluster']}/drift/"]) as drifts:
        service.on_event(
            registry.instance(member["id"]), await member["daemon"].change_behind_its_back(KEY, "1")
        )
        published = await next_event(drifts)

    assert member["daemon"].keys[KEY] == ("8080", {})
    assert published.topic == f"cluster/{member['cluster']}/drift/{KEY}"
    assert published.data["found"] == {"value": "1", "meta": {}}
    assert published.data["desired"] == {"value": "8080", "meta": {}}
    assert (published.data["restored"], published.data["origin"]) == (True, "external")
    [entry] = await drift_entries(admin, member)
    assert entry["user"] == "clusterd"
    assert entry["key"] == KEY
    assert (entry["before"]["value"], entry["after"]["value"]) == ("1", "8080")
    assert cluster_sync(member["cluster"])["state"] == "in-sync"


async def test_a_removed_key_is_put_back_and_an_unreachable_member_stays_drifted(
    cluster_sync: ClusterSync,
    admin: Client,
    member: dict[str, Any],
    service: ConvergingClusterService,
    registry: Registry,
    hub: EventHub,
) -> None:
    instance = registry.instance(member["id"])
    with hub.subscribe([f"cluster/{member['cluster']}/drift/"]) as drifts:
        service.on_event(instance, await member["daemon"].change_behind_its_back(KEY, None))
        assert (await next_event(drifts)).data["found"] is None
        assert member["daemon"].keys[KEY] == ("8080", {})

        service.on_event(instance, await member["daemon"].change_behind_its_back(KEY, "1"))
        member["daemon"].faults.unreachable = True  # before the restore gets to run
        unrestored = await next_event(drifts)
    assert unrestored.data["restored"] is False
    assert data_of(unrestored)["error"]["code"] == "unreachable"
    state = service.member_status(instance)
    assert state is not None and (state["state"], state["drift"]) == ("drift", [KEY])

    member["daemon"].faults.unreachable = False
    await service.on_status(instance, True)
    await eventually(lambda: member["daemon"].keys[KEY] == ("8080", {}))
    await eventually(lambda: cluster_sync(member["cluster"])["state"] == "in-sync")


async def test_the_clusters_own_changes_are_no_drift(
    admin: Client,
    member: dict[str, Any],
    service: ConvergingClusterService,
    registry: Registry,
    network: InProcessNetwork,
) -> None:
    events = member["daemon"].subscribe()
    await events.start()
    await admin.put(f"/api/clusters/{member['cluster']}/kdb/{KEY}", "8081")
    own = events.published(KEY)
    await events.close()
    assert own.origin == f"cluster:{member['cluster']}"
    unrelated = await member["daemon"].change_behind_its_back("system:/app/free", "x")
    network.calls.clear()
    instance = registry.instance(member["id"])
    service.on_event(instance, own)
    service.on_event(instance, unrelated)
    assert network.ops() == []
    assert await drift_entries(admin, member) == []


async def test_drift_within_a_bulk_change_is_found_by_reading_the_member(
    admin: Client,
    member: dict[str, Any],
    service: ConvergingClusterService,
    registry: Registry,
    hub: EventHub,
    network: InProcessNetwork,
) -> None:
    instance = registry.instance(member["id"])
    await member["daemon"].change_behind_its_back(KEY, "1")  # its key event is lost
    subtree = names.parent(KEY)
    own = SubtreeEvent(subtree, 0, 40, 0, f"cluster:{member['cluster']}")
    network.calls.clear()
    service.on_event(instance, own)
    assert network.ops() == []  # the cluster's own bulk write: nothing to look at
    with hub.subscribe([f"cluster/{member['cluster']}/drift/"]) as drifts:
        service.on_event(instance, SubtreeEvent(subtree, 0, 40, 0, "external"))
        published = await next_event(drifts)
    # Which keys changed is not told, so the member was read: the drift has no origin.
    assert (published.data["key"], published.data["found"]) == (KEY, {"value": "1", "meta": {}})
    assert (published.data["restored"], published.data["origin"]) == (True, None)
    assert member["daemon"].keys[KEY] == ("8080", {})


async def test_drift_while_nobody_watched_is_found_when_the_member_returns(
    admin: Client,
    member: dict[str, Any],
    service: ConvergingClusterService,
    registry: Registry,
    hub: EventHub,
) -> None:
    await member["daemon"].kdb_set(KEY, "9999")  # no event reaches clusterd: nobody listened
    with hub.subscribe([f"cluster/{member['cluster']}/drift/"]) as drifts:
        await service.on_status(registry.instance(member["id"]), True)
        found = await next_event(drifts)
    assert (data_of(found)["found"]["value"], found.data["origin"]) == ("9999", None)
    assert member["daemon"].keys[KEY] == ("8080", {})
    [entry] = await drift_entries(admin, member)
    assert entry["result"]["restored"] is True

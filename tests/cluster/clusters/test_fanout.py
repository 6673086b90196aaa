"""Fan-out: one result per member, offline members pending until they return."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.clusters.convergence import Convergence
from elektraweb.cluster.clusters.fanout import fan_out
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.store.applied_keys import AppliedKeys, Rejection
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.registry import Registry
from elektraweb.cluster.store.sqlite import SQLiteConnection
from elektraweb.kdb.key import Key
from support.inprocess import InProcessElektrad, InProcessNetwork
from support.interleaving import PausingAfter

from ..conftest import Register
from ..fakes import Client
from .conftest import ClusterSync
from .waiting import data_of, eventually, next_event


@pytest.fixture
async def trio(admin: Client, register: Register, network: InProcessNetwork) -> dict[str, Any]:
    """Cluster `web` with three members; `daemons` in member order."""
    cluster = (await admin.post("/api/clusters", {"name": "web"})).body
    members, daemons = [], []
    for index in range(3):
        instance = await register(f"web-{index}", 42000 + index)
        await admin.post(f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]})
        members.append(instance["id"])
        daemons.append(network[f"tcp://127.0.0.1:{42000 + index}"])
    return {"url": f"/api/clusters/{cluster['id']}", "members": members, "daemons": daemons}


async def test_an_offline_member_is_pending_and_not_waited_for(
    admin: Client, trio: dict[str, Any], network: InProcessNetwork
) -> None:
    down: InProcessElektrad = trio["daemons"][1]
    down.faults.unreachable = True
    network.calls.clear()

    answer = await admin.put(f"{trio['url']}/kdb/system:/app/mode", "fast")
    assert answer.status == 200
    results = answer.body["members"]
    first, offline, third = (results[str(member)] for member in trio["members"])
    assert first["status"] == third["status"] == "applied"
    assert offline["status"] == "pending"
    assert offline["error"]["code"] == "unreachable"
    assert "web-1" in offline["error"]["message"]
    assert network.ops(down.endpoint) == []
    assert "system:/app/mode" not in down.keys


async def test_a_member_that_vanishes_mid_write_is_pending_and_catches_up(
    cluster_sync: ClusterSync,
    admin: Client,
    trio: dict[str, Any],
    service: ConvergingClusterService,
    registry: Registry,
) -> None:
    silent: InProcessElektrad = trio["daemons"][2]
    silent.faults.lose_replies = True  # it applies the write, its reply never comes
    answer = await admin.put(f"{trio['url']}/kdb/system:/app/mode", "safe")
    assert answer.body["members"][str(trio["members"][2])]["status"] == "pending"
    assert answer.body["members"][str(trio["members"][2])]["error"]["code"] == "timeout"

    silent.faults.lose_replies = False
    await service.on_status(registry.instance(trio["members"][2]), True)
    await eventually(lambda: cluster_sync(1)["state"] == "in-sync")
    assert silent.keys["system:/app/mode"] == ("safe", {})


async def test_each_member_is_applied_to_in_parallel(admin: Client, trio: dict[str, Any]) -> None:
    """A slow member does not hold the others back: all sets are in flight at once."""
    all_three = asyncio.Barrier(3)
    met: list[str] = []

    async def meet_the_others(op: str) -> None:
        if op == "set":  # each set waits until the other two are in flight as well
            async with asyncio.timeout(2):
                await all_three.wait()
            met.append(op)

    for daemon in trio["daemons"]:
        daemon.faults.before = meet_the_others
    answer = await admin.put(f"{trio['url']}/kdb/system:/app/mode", "wide")
    assert {result["status"] for result in answer.body["members"].values()} == {"applied"}
    assert met == ["set"] * 3


async def test_a_slow_member_does_not_hold_back_the_others(
    admin: Client, trio: dict[str, Any]
) -> None:
    """The first member's set is held before it reaches its daemon: the other two members
    have the new value on disk before it is let go, and the answer waits for all three."""
    slow, *others = trio["daemons"]
    reached, release = asyncio.Event(), asyncio.Event()

    async def hold(op: str) -> None:
        if op == "set":
            reached.set()
            await release.wait()

    slow.faults.before = hold
    write = asyncio.create_task(admin.put(f"{trio['url']}/kdb/system:/app/mode", "steady"))
    await asyncio.wait_for(reached.wait(), 5)
    await eventually(
        lambda: all(daemon.keys.get("system:/app/mode") == ("steady", {}) for daemon in others)
    )
    assert "system:/app/mode" not in slow.keys
    assert not write.done()

    release.set()
    answer = await write
    assert [answer.body["members"][str(member)]["status"] for member in trio["members"]] == [
        "applied"
    ] * 3
    assert slow.keys["system:/app/mode"] == ("steady", {})


async def test_a_member_that_leaves_while_its_sync_waits_is_not_written_to(
    admin: Client, trio: dict[str, Any], registry: Registry
) -> None:
    """The syncs of a write share one check of the cluster's members while they start
    together; a sync that waits for its member (an earlier write still runs there) checks
    again when its turn comes, so a member that left meanwhile never gets the write."""
    key = "system:/app/mode"
    busy, *others = trio["daemons"]
    leaving = trio["members"][0]
    reached, release = asyncio.Event(), asyncio.Event()

    async def hold_the_first_set(op: str) -> None:
        if op == "set" and not reached.is_set():
            reached.set()
            await release.wait()

    busy.faults.before = hold_the_first_set
    first = asyncio.create_task(admin.put(f"{trio['url']}/kdb/{key}", "first"))
    await asyncio.wait_for(reached.wait(), 5)
    second = asyncio.create_task(admin.put(f"{trio['url']}/kdb/{key}", "second"))
    await eventually(lambda: all(daemon.keys.get(key) == ("second", {}) for daemon in others))
    cluster_id = registry.instance(leaving).cluster_id
    assert cluster_id is not None
    registry.leave(cluster_id, leaving)

    release.set()
    assert (await first).status == 200
    assert (await second).status == 200
    assert busy.keys[key] == ("first", {})
    assert all(daemon.keys[key] == ("second", {}) for daemon in others)


async def test_one_audit_entry_covers_every_member_with_the_desired_state_around_it(
    admin: Client, trio: dict[str, Any]
) -> None:
    """The cluster's own state before and after the write, and each member's outcome,
    refusals included, in one entry however many members there are."""
    url, members = trio["url"], trio["members"]
    await admin.put(f"{url}/kdb/system:/app/mode", "first")
    fussy: InProcessElektrad = trio["daemons"][1]
    await fussy.kdb_set("system:/app/mode", "1", {"check/type": "long"})

    answer = await admin.put(f"{url}/kdb/system:/app/mode", "second")
    assert answer.status == 200
    assert "changes" not in answer.body  # how the audit learns the states, not the caller's
    cluster = url.rpartition("/")[2]
    entries = (await admin.get(f"/api/audit?cluster={cluster}&key=system:/app/mode")).body
    assert [(entry["before"], entry["after"]) for entry in entries] == [
        ({"value": "first", "meta": {}}, {"value": "second", "meta": {}}),
        (None, {"value": "first", "meta": {}}),
    ]
    outcomes = entries[0]["result"]["reply"]["members"]
    assert [outcomes[str(member)]["status"] for member in members] == [
        "applied",
        "rejected",
        "applied",
    ]
    assert outcomes[str(members[1])]["error"]["code"] == "validation"
    assert outcomes == answer.body["members"]


async def test_a_write_costs_the_database_the_same_for_three_members_as_for_one(
    admin: Client, trio: dict[str, Any], register: Register, server: Server
) -> None:
    """The cluster's members, its keys and what members have are read once per write; the
    members' outcomes are stored in one transaction and the write is audited in one entry,
    however many members answer."""
    solo = (await admin.post("/api/clusters", {"name": "solo"})).body
    alone = await register("solo-0", 42100)
    await admin.post(f"/api/clusters/{solo['id']}/instances", {"instance": alone["id"]})
    assert server.services is not None
    database = server.services.database
    # The audit log writes through the group commit's connection, the rest through the main one.
    connections = [
        connection.raw
        for connection in (database.connection, database.group_commit.connection)
        if isinstance(connection, SQLiteConnection)
    ]

    async def statements_of_a_write(url: str) -> Counter[str]:
        await admin.put(f"{url}/kdb/system:/app/mode", "warm")  # every member holds the key
        statements: list[str] = []
        for connection in connections:
            connection.set_trace_callback(statements.append)
        try:
            answer = await admin.put(f"{url}/kdb/system:/app/mode", "counted")
        finally:
            for connection in connections:
                connection.set_trace_callback(None)
        assert {result["status"] for result in answer.body["members"].values()} == {"applied"}
        # An outcome's row is written only while its instance is a member: that check is part
        # of the one write per member, not a read.
        reads_and_commits = [
            s for s in statements if not s.startswith("INSERT INTO cluster_applied")
        ]
        return Counter(
            kind
            for statement in reads_and_commits
            for kind in (
                "SELECT * FROM cluster_applied",
                "FROM cluster_keys",
                "FROM instances",
                "FROM clusters",
                "FROM cluster_releases",
                "INSERT INTO audit (",
                "UPDATE audit SET",
                "COMMIT",
            )
            if kind in statement
        )

    one = await statements_of_a_write(f"/api/clusters/{solo['id']}")
    three = await statements_of_a_write(trio["url"])
    assert three == one
    assert one["COMMIT"] >= 1
    assert one["INSERT INTO audit ("] == 1  # one entry, concluded as often for three as for one


async def test_a_clusters_status_is_worked_out_only_while_someone_watches_it(
    admin: Client, trio: dict[str, Any], server: Server, hub: EventHub
) -> None:
    """The status, recomputed over every member after each write, costs a read of what the
    members have; it is made only for a subscriber (or another replica), who then sees it."""
    services = server.services
    assert services is not None
    connection = services.database.connection
    assert isinstance(connection, SQLiteConnection)
    cluster_id = services.registry.instance(trio["members"][0]).cluster_id

    async def applied_reads_of_a_write(value: str) -> int:
        statements: list[str] = []
        connection.raw.set_trace_callback(statements.append)
        try:
            answer = await admin.put(f"{trio['url']}/kdb/system:/app/mode", value)
        finally:
            connection.raw.set_trace_callback(None)
        assert {result["status"] for result in answer.body["members"].values()} == {"applied"}
        return sum(line.startswith("SELECT * FROM cluster_applied") for line in statements)

    unwatched = await applied_reads_of_a_write("unwatched")
    with hub.subscribe([f"cluster/{cluster_id}/status"]) as statuses:
        watched = await applied_reads_of_a_write("watched")
        status = data_of(await next_event(statuses))
    assert watched == unwatched + 1
    assert status["cluster"] == cluster_id
    assert status["state"] == "in-sync"
    assert {member["state"] for member in status["members"].values()} == {"in-sync"}


async def test_outcomes_are_stored_member_by_member_whichever_answered_first(
    trio: dict[str, Any], server: Server
) -> None:
    """Two replicas storing the outcomes of the same members take the rows' locks in the same
    order (member by member), so neither waits for the other (a deadlock on PostgreSQL)."""
    services = server.services
    assert services is not None
    connection = services.database.connection
    assert isinstance(connection, SQLiteConnection)
    applied = AppliedKeys(services.database)
    members = trio["members"]
    cluster_id = services.registry.instance(members[0]).cluster_id
    assert cluster_id is not None
    statements: list[str] = []
    connection.raw.set_trace_callback(statements.append)
    try:
        with applied.batch():
            for member in reversed(members):  # the last member answered first
                applied.applied(cluster_id, member, "system:/app/a", "r1", {}, "o1")
            applied.rejected(cluster_id, members[0], "system:/app/b", Rejection("r2", {}))
    finally:
        connection.raw.set_trace_callback(None)
    stored = [
        int(statement.split(" SELECT ")[1].split(",")[1])
        for statement in statements
        if statement.startswith("INSERT INTO cluster_applied")
    ]
    assert stored == [members[0], members[0], members[1], members[2]]
    assert statements.count("COMMIT") == 1
    assert applied.of(cluster_id, members[0])["system:/app/b"].rejected == Rejection("r2", {})
    assert all(applied.of(cluster_id, m)["system:/app/a"].revision == "r1" for m in members)


async def test_a_batch_reads_afresh_what_was_written_since_it_read(
    trio: dict[str, Any], server: Server
) -> None:
    services = server.services
    assert services is not None
    published: list[int] = []
    applied = AppliedKeys(services.database)
    convergence = Convergence(services, applied, published.append)
    cluster_id = services.registry.instance(trio["members"][0]).cluster_id
    assert cluster_id is not None
    first, second, _ = trio["members"]
    services.cluster_keys.put(cluster_id, Key("system:/app/a", "1"))
    convergence.desired_changed(cluster_id)

    with convergence.batch(cluster_id, convergence.members(cluster_id)) as batch:
        desired, known = batch.known(first)
        assert (list(desired), known) == (["system:/app/a"], {})
        revision = desired.revision("system:/app/a")
        applied.applied(cluster_id, second, "system:/app/a", revision, {}, revision)
        assert batch.known(first)[1] == {}
        assert batch.known(second)[1]["system:/app/a"].revision == revision

        services.cluster_keys.put(cluster_id, Key("system:/app/b", "2"))
        convergence.desired_changed(cluster_id)
        assert list(batch.known(first)[0]) == ["system:/app/a", "system:/app/b"]

        assert batch.member(second) is not None
        services.registry.leave(cluster_id, second)  # a member leaves while the batch runs
        # A leave is another request: it comes in a later turn of the event loop than the
        # syncs that started together, and those share one read of the cluster's version.
        await asyncio.sleep(0)
        assert batch.member(second) is None
        member = batch.member(first)
        assert member is not None and member.cluster_id == cluster_id
    assert published == []  # no sync ran, so nothing changed to report


async def test_a_member_that_left_on_another_replica_as_a_write_read_the_members_gets_nothing(
    trio: dict[str, Any], server: Server, network: InProcessNetwork
) -> None:
    """A fan-out's batch keeps the members it was given under the cluster's version read before
    them: a leave committed between the two reads is never cached as that version's members."""
    services = server.services
    assert services is not None
    convergence = Convergence(services, AppliedKeys(services.database), lambda _: None)
    leaving, daemon = trio["members"][1], trio["daemons"][1]
    cluster_id = services.registry.instance(leaving).cluster_id
    assert cluster_id is not None
    services.cluster_keys.put(cluster_id, Key("system:/app/mode", "after"))
    convergence.desired_changed(cluster_id)
    other_replica = Database.open(services.config.database)
    main = services.database.connection

    def leave_on_the_other_replica() -> None:
        Registry(other_replica).leave(cluster_id, leaving)

    # Right after this clusterd read the members, the other replica commits the leave.
    services.database.connection = PausingAfter(
        main, "SELECT * FROM instances WHERE cluster_id", leave_on_the_other_replica
    )
    try:
        members = convergence.members(cluster_id)
    finally:
        services.database.connection = main
        other_replica.close()
    assert leaving in [member.id for member in members.instances]
    network.calls.clear()

    await fan_out(convergence, services.gateway, cluster_id, members, ["system:/app/mode"])

    assert "set" not in network.ops(daemon.endpoint)
    assert "system:/app/mode" not in daemon.keys
    for member in (trio["daemons"][0], trio["daemons"][2]):
        assert member.keys["system:/app/mode"] == ("after", {})

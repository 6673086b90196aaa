"""Staged cluster changes over REST and ZWS, through elektrad's real service and files: a draft
collects edits that reach no member, its diff is the publish's preview, a publish is one audited
release that rolls back as one, and a canary release reaches only its members until promoted."""

from __future__ import annotations

from typing import Any

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.services import ClusterServiceFactory
from support.inprocess import InProcessNetwork
from support.zws import open_zws

from ..conftest import ClientFactory, Register
from ..fakes import Client

PORT, HOST = "system:/app/port", "system:/app/db/host"


@pytest.fixture
def cluster_service() -> ClusterServiceFactory:
    return ConvergingClusterService


async def cluster_with(admin: Client, register: Register, count: int) -> tuple[str, list[int]]:
    """Cluster `prod` with `count` members and PORT = 8080 on all of them."""
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    members = []
    for number in range(count):
        member = await register(f"web-{number + 1}", 40001 + number)
        joined = await admin.post(
            f"/api/clusters/{cluster['id']}/instances", {"instance": member["id"]}
        )
        assert joined.status == 201, joined.body
        members.append(member["id"])
    prefix = f"/api/clusters/{cluster['id']}"
    assert (await admin.put(f"{prefix}/kdb/{PORT}", "8080")).status == 200
    return prefix, members


def on(network: InProcessNetwork, number: int, key: str) -> str | None:
    """The value member `number` (1-based) has for `key`, in its files."""
    entry = network[f"tcp://127.0.0.1:{40000 + number}"].keys.get(key)
    return None if entry is None else entry[0]


async def test_a_draft_reaches_no_member_and_publishes_as_one_release_that_rolls_back_as_one(
    admin: Client, clients: ClientFactory, register: Register, network: InProcessNetwork
) -> None:
    prefix, _ = await cluster_with(admin, register, 2)
    editor = await clients("editor")
    edits = [
        {"op": "set", "key": PORT, "value": "9090"},
        {"op": "set", "key": HOST, "value": "db1", "meta": {"description": "primary"}},
        {"op": "set", "key": PORT, "meta": {"check/type": "long"}},
    ]
    for edit in edits:
        added = await editor.post(f"{prefix}/draft", edit)
        assert added.status == 201, added.body
        assert added.body["user"] == "editor"
    assert (await editor.get(f"{prefix}/draft")).body["count"] == 3
    assert on(network, 1, PORT) == on(network, 2, PORT) == "8080"
    assert (await editor.get(f"{prefix}/kdb/{PORT}")).body["value"] == "8080"

    diff = await editor.post(f"{prefix}/draft/publish?preview=true", {"message": "move port"})
    assert diff.status == 200, diff.body
    desired, *members = diff.body["targets"]
    assert [(c["key"], c["before"], c["after"]) for c in desired["changes"]] == [
        (HOST, None, "db1"),
        (PORT, "8080", "9090"),
    ]
    assert len(members) == 2 and all(len(member["changes"]) == 2 for member in members)
    assert (await editor.get(f"{prefix}/draft")).body["count"] == 3

    published = await editor.post(f"{prefix}/draft/publish", {"message": "move port"})
    assert published.status == 201, published.body
    release = published.body
    assert (release["state"], release["message"], release["keys"]) == (
        "published", "move port", [HOST, PORT],
    )  # fmt: skip
    assert on(network, 1, PORT) == on(network, 2, PORT) == "9090"
    assert network["tcp://127.0.0.1:40002"].keys[PORT][1] == {"check/type": "long"}
    assert (await editor.get(f"{prefix}/draft")).body == {"count": 0, "edits": []}

    cluster_id = prefix.rsplit("/", 1)[1]
    [entry, *_] = (await editor.get(f"/api/history?cluster={cluster_id}")).body
    assert (entry["id"], entry["action"], entry["user"]) == (release["entry"], "release", "editor")
    assert entry["args"]["message"] == "move port"
    assert sorted(change["key"] for change in entry["changes"]) == [HOST, PORT]
    listed = (await editor.get(f"{prefix}/releases")).body
    assert [r["id"] for r in listed] == [release["id"]]

    rolled = await editor.post(f"{prefix}/releases/{release['id']}/rollback")
    assert rolled.status == 200, rolled.body
    assert rolled.body["state"] == "rolled-back"
    assert on(network, 1, PORT) == on(network, 2, PORT) == "8080"
    assert on(network, 1, HOST) is None and on(network, 2, HOST) is None
    [revert, *_] = (await editor.get(f"/api/history?cluster={cluster_id}")).body
    assert (revert["action"], revert["args"]["entry"]) == ("revert", release["entry"])
    again = await editor.post(f"{prefix}/releases/{release['id']}/rollback")
    assert again.status == 409


async def test_a_canary_release_reaches_its_members_only_until_promoted(
    admin: Client, register: Register, network: InProcessNetwork, server: Server
) -> None:
    prefix, (first, second, third) = await cluster_with(admin, register, 3)
    await admin.post(f"{prefix}/draft", {"op": "set", "key": PORT, "value": "9090"})
    published = await admin.post(
        f"{prefix}/draft/publish", {"message": "try 9090", "canary": [first]}
    )
    assert published.status == 201, published.body
    release = published.body
    assert (release["state"], release["canary"]) == ("canary", [first])
    assert (on(network, 1, PORT), on(network, 2, PORT), on(network, 3, PORT)) == (
        "9090", "8080", "8080",
    )  # fmt: skip
    # The cluster shows the release; every member is as it should be meanwhile.
    assert (await admin.get(f"{prefix}/kdb/{PORT}")).body["value"] == "9090"
    status = (await admin.get(prefix)).body
    assert status["sync"]["state"] == "in-sync", status

    second_release = await admin.post(f"{prefix}/draft", {"op": "rm", "key": PORT})
    assert second_release.status == 201
    refused = await admin.post(f"{prefix}/draft/publish", {"message": "more"})
    assert refused.status == 409 and refused.body["error"]["release"] == release["id"]
    assert (await admin.get(f"{prefix}/draft")).body["count"] == 1  # kept for later
    await admin.delete(f"{prefix}/draft/{second_release.body['id']}")

    promoted = await admin.post(f"{prefix}/releases/{release['id']}/promote")
    assert promoted.status == 200, promoted.body
    assert promoted.body["state"] == "published"
    assert set(promoted.body["members"]) == {str(second), str(third)}
    assert {r["status"] for r in promoted.body["members"].values()} == {"applied"}
    assert on(network, 2, PORT) == on(network, 3, PORT) == "9090"
    assert (await admin.post(f"{prefix}/releases/{release['id']}/promote")).status == 409
    audit = (await admin.get(f"/api/audit?cluster={prefix.rsplit('/', 1)[1]}")).body
    assert audit[0]["action"] == "promote"


async def test_rolling_back_a_canary_puts_its_members_back_and_ends_the_hold(
    admin: Client, register: Register, network: InProcessNetwork
) -> None:
    prefix, (first, _) = await cluster_with(admin, register, 2)
    await admin.post(f"{prefix}/draft", {"op": "rm", "key": PORT})
    release = (
        await admin.post(f"{prefix}/draft/publish", {"message": "drop", "canary": [first]})
    ).body
    assert (on(network, 1, PORT), on(network, 2, PORT)) == (None, "8080")

    rolled = await admin.post(f"{prefix}/releases/{release['id']}/rollback")
    assert rolled.status == 200, rolled.body
    assert on(network, 1, PORT) == on(network, 2, PORT) == "8080"
    # No canary in flight any more: a new release goes to everybody.
    await admin.post(f"{prefix}/draft", {"op": "set", "key": PORT, "value": "7070"})
    assert (await admin.post(f"{prefix}/draft/publish", {"message": "all"})).status == 201
    assert on(network, 1, PORT) == on(network, 2, PORT) == "7070"


async def test_bad_drafts_and_publishes_are_refused_naming_the_problem(
    admin: Client, register: Register, network: InProcessNetwork
) -> None:
    prefix, _ = await cluster_with(admin, register, 1)
    empty = await admin.post(f"{prefix}/draft/publish", {"message": "nothing"})
    assert empty.status == 400 and "empty" in empty.body["error"]["message"]
    cascading = await admin.post(f"{prefix}/draft", {"op": "set", "key": "/app/x", "value": "1"})
    assert cascading.status == 400 and cascading.body["error"]["field"] == "key"
    bad_op = await admin.post(f"{prefix}/draft", {"op": "mv", "key": PORT})
    assert bad_op.status == 400
    assert (await admin.post(f"{prefix}/draft", {"op": "set", "key": PORT})).status == 400

    await admin.post(f"{prefix}/draft", {"op": "set", "key": PORT, "value": "8080"})
    no_message = await admin.post(f"{prefix}/draft/publish", {"message": "  "})
    assert no_message.status == 400 and no_message.body["error"]["field"] == "message"
    stranger = await admin.post(f"{prefix}/draft/publish", {"message": "m", "canary": [99]})
    assert stranger.status == 400 and stranger.body["error"]["instances"] == [99]
    unchanged = await admin.post(f"{prefix}/draft/publish", {"message": "same"})
    assert unchanged.status == 400 and unchanged.body["error"]["code"] == "empty-release"
    assert (await admin.get(f"{prefix}/releases")).body == []
    assert (await admin.get(f"{prefix}/draft")).body["count"] == 1
    assert (await admin.delete(f"{prefix}/draft/12345")).status == 404


async def test_a_viewer_reads_the_draft_and_releases_an_editor_changes_them(
    admin: Client, clients: ClientFactory, register: Register
) -> None:
    prefix, _ = await cluster_with(admin, register, 1)
    viewer, editor = await clients("viewer"), await clients("editor")
    edit = {"op": "set", "key": PORT, "value": "9090"}
    assert (await viewer.post(f"{prefix}/draft", edit)).status == 403
    added = await editor.post(f"{prefix}/draft", edit)
    assert (await viewer.get(f"{prefix}/draft")).body["count"] == 1
    assert (await viewer.delete(f"{prefix}/draft/{added.body['id']}")).status == 403
    assert (await viewer.post(f"{prefix}/draft/publish", {"message": "m"})).status == 403
    release = (await editor.post(f"{prefix}/draft/publish", {"message": "m"})).body
    assert [r["id"] for r in (await viewer.get(f"{prefix}/releases")).body] == [release["id"]]
    for action in ("promote", "rollback"):
        path = f"{prefix}/releases/{release['id']}/{action}"
        assert (await viewer.post(path)).status == 403


async def test_the_whole_flow_over_zws(
    server: Server, admin: Client, register: Register, network: InProcessNetwork
) -> None:
    prefix, (first, _) = await cluster_with(admin, register, 2)
    zws = await open_zws(admin.session, server.url.replace("http", "ws", 1) + "/zmq")

    async def request(number: int, method: str, path: str, body: Any = None) -> Any:
        message = {"method": method, "path": path, **({"body": body} if body else {})}
        return await zws.request(str(number).encode(), message)

    try:
        added = await request(1, "POST", f"{prefix}/draft", {"op": "rm", "key": PORT})
        assert added["status"] == 201, added
        diff = await request(2, "POST", f"{prefix}/draft/publish?preview=true", {"message": "m"})
        assert diff["body"]["targets"][0]["changes"][0]["after"] is None
        body = {"message": "drop the port", "canary": [first]}
        published = await request(3, "POST", f"{prefix}/draft/publish", body)
        assert published["status"] == 201, published
        assert (on(network, 1, PORT), on(network, 2, PORT)) == (None, "8080")
        release = published["body"]["id"]
        promoted = await request(4, "POST", f"{prefix}/releases/{release}/promote")
        assert promoted["status"] == 200, promoted
    finally:
        await zws.ws.close()
    assert on(network, 2, PORT) is None


async def test_undoing_a_canary_release_through_the_history_rolls_it_back_and_ends_the_hold(
    admin: Client, register: Register, network: InProcessNetwork
) -> None:
    prefix, (first, _) = await cluster_with(admin, register, 2)
    await admin.post(f"{prefix}/draft", {"op": "set", "key": PORT, "value": "9090"})
    release = (
        await admin.post(f"{prefix}/draft/publish", {"message": "try", "canary": [first]})
    ).body
    undo = (await admin.get("/api/history/undo")).body["undo"]
    assert (undo["id"], undo["action"]) == (release["entry"], "release")

    previewed = await admin.post(f"/api/history/{undo['id']}/revert?preview=true")
    assert previewed.status == 200, previewed.body
    [listed] = (await admin.get(f"{prefix}/releases")).body
    assert listed["state"] == "canary"  # a preview changes nothing
    reverted = await admin.post(f"/api/history/{undo['id']}/revert")
    assert reverted.status == 200, reverted.body
    [listed] = (await admin.get(f"{prefix}/releases")).body
    assert listed["state"] == "rolled-back"
    assert on(network, 1, PORT) == on(network, 2, PORT) == "8080"
    assert (await admin.post(f"{prefix}/releases/{release['id']}/promote")).status == 409
    # The hold is gone: the next release is published to every member.
    await admin.post(f"{prefix}/draft", {"op": "set", "key": PORT, "value": "7070"})
    assert (await admin.post(f"{prefix}/draft/publish", {"message": "all"})).status == 201
    assert on(network, 1, PORT) == on(network, 2, PORT) == "7070"

"""Drafting a write of a subtree (rm -r, mv, cp, import) over REST and ZWS, through elektrad's
real service: it becomes the single-key edits it means against the desired state with the
draft folded in, listed and removed as one, and published with the rest of the draft."""

from __future__ import annotations

from typing import Any

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.services import ClusterServiceFactory
from support.inprocess import InProcessNetwork
from support.zws import open_zws

from ..conftest import Register
from ..fakes import Client
from .test_releases import PORT, cluster_with, on

HOST, USER, DB_PORT = "system:/app/db/host", "system:/app/db/user", "system:/app/db/port"


@pytest.fixture
def cluster_service() -> ClusterServiceFactory:
    return ConvergingClusterService


async def test_a_drafted_subtree_write_is_one_entry_of_single_key_edits_published_with_the_draft(
    admin: Client, register: Register, network: InProcessNetwork
) -> None:
    prefix, _ = await cluster_with(admin, register, 2)
    for key, value in ((HOST, "db0"), (USER, "app")):
        assert (await admin.put(f"{prefix}/kdb/{key}", value)).status == 200
    planned = await admin.post(f"{prefix}/draft", {"op": "set", "key": DB_PORT, "value": "5432"})
    assert planned.status == 201

    # The rm -r covers the key only the draft has so far: the draft is folded in first.
    removal = await admin.post(
        f"{prefix}/draft", {"op": "rm", "key": "system:/app/db", "recursive": True}
    )
    assert removal.status == 201, removal.body
    assert (removal.body["op"], removal.body["key"], removal.body["count"]) == (
        "rm", "system:/app/db", 3,
    )  # fmt: skip
    assert [(e["op"], e["key"]) for e in removal.body["edits"]] == [
        ("rm", HOST), ("rm", DB_PORT), ("rm", USER),
    ]  # fmt: skip
    move = {"op": "mv", "key": PORT, "target": "system:/web/port"}
    moved = await admin.post(f"{prefix}/draft", move)
    assert moved.status == 201 and moved.body["count"] == 2, moved.body
    imported = await admin.post(
        f"{prefix}/draft",
        {"op": "import", "key": "system:/new", "format": "ini", "data": "a = 1\nb = 2\n"},
    )
    assert imported.status == 201 and imported.body["count"] == 2, imported.body
    assert "data" not in imported.body  # the file's text is in its edits, not listed again

    listed = (await admin.get(f"{prefix}/draft")).body
    assert listed["count"] == 4
    assert [(e["op"], e["key"], e.get("count")) for e in listed["edits"]] == [
        ("set", DB_PORT, None), ("rm", "system:/app/db", 3), ("mv", PORT, 2),
        ("import", "system:/new", 2),
    ]  # fmt: skip
    assert listed["edits"][2]["target"] == "system:/web/port"
    # Nothing reached the desired state or a member.
    assert on(network, 1, HOST) == "db0" and on(network, 2, PORT) == "8080"
    assert (await admin.get(f"{prefix}/kdb/system:/web/port")).body["exists"] is False

    # Removing any edit of a group removes the group.
    last_of_move = moved.body["edits"][-1]["id"]
    gone = await admin.delete(f"{prefix}/draft/{last_of_move}")
    assert gone.status == 200 and sorted(gone.body["edits"]) == [
        edit["id"] for edit in moved.body["edits"]
    ]
    assert [e["op"] for e in (await admin.get(f"{prefix}/draft")).body["edits"]] == [
        "set", "rm", "import",
    ]  # fmt: skip

    # A key written below the drafted rm -r after it was drafted is not covered by it.
    assert (await admin.put(f"{prefix}/kdb/system:/app/db/later", "x")).status == 200
    published = await admin.post(f"{prefix}/draft/publish", {"message": "retire the db"})
    assert published.status == 201, published.body
    assert published.body["keys"] == [HOST, DB_PORT, USER, "system:/new/a", "system:/new/b"]
    for member in (1, 2):
        assert on(network, member, HOST) is None and on(network, member, USER) is None
        assert on(network, member, DB_PORT) is None
        assert on(network, member, "system:/app/db/later") == "x"
        assert on(network, member, "system:/new/b") == "2"
        assert on(network, member, PORT) == "8080"

    rolled = await admin.post(f"{prefix}/releases/{published.body['id']}/rollback")
    assert rolled.status == 200, rolled.body
    assert on(network, 1, HOST) == "db0" and on(network, 2, "system:/new/a") is None


async def test_a_drafted_subtree_write_that_changes_nothing_or_lacks_an_argument_is_refused(
    admin: Client, register: Register
) -> None:
    prefix, _ = await cluster_with(admin, register, 1)
    missing = await admin.post(
        f"{prefix}/draft", {"op": "rm", "key": "system:/nothing", "recursive": True}
    )
    assert missing.status == 404, missing.body
    assert "system:/nothing" in missing.body["error"]["message"]
    same = {"op": "import", "key": "system:/app", "format": "ini", "data": "port = 8080\n"}
    unchanged = await admin.post(f"{prefix}/draft", same)
    assert unchanged.status == 400 and unchanged.body["error"]["code"] == "empty-edit"
    no_data = await admin.post(f"{prefix}/draft", {"op": "import", "key": "system:/new"})
    assert no_data.status == 400 and no_data.body["error"]["field"] == "data"
    cascading = await admin.post(f"{prefix}/draft", {"op": "cp", "key": PORT, "target": "/x"})
    assert cascading.status == 400 and cascading.body["error"]["field"] == "key"
    reserved = await admin.post(
        f"{prefix}/draft", {"op": "set", "key": PORT, "meta": {"@draft-group": "x"}}
    )
    assert reserved.status == 400 and reserved.body["error"]["field"] == "meta"
    assert (await admin.get(f"{prefix}/draft")).body == {"count": 0, "edits": []}


async def test_drafting_a_move_and_publishing_it_over_zws(
    server: Server, admin: Client, register: Register, network: InProcessNetwork
) -> None:
    prefix, _ = await cluster_with(admin, register, 2)
    zws = await open_zws(admin.session, server.url.replace("http", "ws", 1) + "/zmq")

    async def request(number: int, method: str, path: str, body: Any = None) -> Any:
        message = {"method": method, "path": path, **({"body": body} if body else {})}
        return await zws.request(str(number).encode(), message)

    try:
        move = {"op": "mv", "key": PORT, "target": "system:/web/port"}
        added = await request(1, "POST", f"{prefix}/draft", move)
        assert added["status"] == 201 and added["body"]["count"] == 2, added
        listed = await request(2, "GET", f"{prefix}/draft")
        assert [e["op"] for e in listed["body"]["edits"]] == ["mv"]
        published = await request(3, "POST", f"{prefix}/draft/publish", {"message": "move"})
        assert published["status"] == 201, published
    finally:
        await zws.ws.close()
    for member in (1, 2):
        assert on(network, member, PORT) is None
        assert on(network, member, "system:/web/port") == "8080"

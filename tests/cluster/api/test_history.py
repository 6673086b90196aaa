"""History, revert and point-in-time rollback over REST and ZWS, through elektrad's real service
and files: every key a write changed is recorded, a restore is a new audited compare-and-set."""

from __future__ import annotations

from typing import Any

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.services import ClusterServiceFactory
from elektraweb.kdb.database import KDB
from support.inprocess import InProcessNetwork
from support.zws import open_zws

from ..conftest import ClientFactory, Register
from ..fakes import Client
from .conftest import Registered


@pytest.fixture
def cluster_service() -> ClusterServiceFactory:
    return ConvergingClusterService


def keys_of(entry: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(c["key"], c["before"], c["after"]) for c in entry["changes"]]


async def test_history_lists_every_key_a_write_changed_by_whom(
    server: Server, admin: Client, clients: ClientFactory, web1: Registered
) -> None:
    instance, prefix = web1.id, web1.prefix
    editor = await clients("editor")
    assert (await editor.put(f"{prefix}/kdb/user:/app/db/host", "db2")).status == 200
    assert (await admin.delete(f"{prefix}/kdb/user:/app/db")).status == 200
    big = "x" * (70 * 1024)
    assert (await admin.put(f"{prefix}/kdb/user:/app/blob", big)).status == 200

    answer = await admin.get(f"/api/history?instance={instance}")
    assert answer.status == 200, answer.body
    blob, removal, edit = answer.body
    assert (edit["user"], edit["action"], edit["key"]) == ("editor", "set", "user:/app/db/host")
    assert keys_of(edit) == [("user:/app/db/host", "db1", "db2")]
    assert removal["action"] == "rm"
    assert keys_of(removal) == [
        ("user:/app/db/host", "db2", None),
        ("user:/app/db/user", "web", None),
    ]
    assert [c["meta_before"] for c in removal["changes"]] == [
        {"description": "primary"},
        {},
    ]
    assert blob["changes"][0]["after"]["size"] == len(big)

    one_key = await admin.get(f"/api/history?instance={instance}&key=user:/app/db/user")
    assert [entry["id"] for entry in one_key.body] == [removal["id"]]
    subtree = await admin.get(f"/api/history?instance={instance}&key=user:/app/db&below=true")
    assert [entry["id"] for entry in subtree.body] == [removal["id"], edit["id"]]
    named = await admin.get(f"/api/history?instance={instance}&key=user:/app/db")
    assert [entry["id"] for entry in named.body] == [removal["id"]]  # the rm names it
    paged = await admin.get(f"/api/history?instance={instance}&before={removal['id']}&limit=1")
    assert [entry["id"] for entry in paged.body] == [edit["id"]]
    assert (await admin.get("/api/history")).status == 400

    viewer = await clients("viewer")
    zws = await open_zws(viewer.session, server.url.replace("http", "ws", 1) + "/zmq")
    try:
        over_zws = await zws.request(
            b"1", {"method": "GET", "path": f"/api/history?instance={instance}&limit=1"}
        )
    finally:
        await zws.ws.close()
    assert over_zws["status"] == 200
    assert [entry["id"] for entry in over_zws["body"]] == [blob["id"]]


async def test_revert_puts_a_removed_subtree_back_with_its_metadata(
    admin: Client, web1: Registered
) -> None:
    instance, prefix, daemon = web1.id, web1.prefix, web1.daemon
    before = {name: entry for name, entry in daemon.keys.items() if name.startswith("user:/app")}
    assert (await admin.delete(f"{prefix}/kdb/user:/app/db")).status == 200
    [removal] = (await admin.get(f"/api/history?instance={instance}")).body

    preview = await admin.post(f"/api/history/{removal['id']}/revert?preview=true")
    assert preview.status == 200, preview.body
    [target] = preview.body["targets"]
    assert [c["after"] for c in target["changes"]] == ["db1", "web"]
    assert "user:/app/db/host" not in daemon.keys

    answer = await admin.post(f"/api/history/{removal['id']}/revert")
    assert answer.status == 200, answer.body
    assert answer.body["restored"] == ["user:/app/db/host", "user:/app/db/user"]
    after = {name: entry for name, entry in daemon.keys.items() if name.startswith("user:/app")}
    assert after == before
    revert, _ = (await admin.get(f"/api/history?instance={instance}")).body
    assert (revert["id"], revert["action"], revert["args"]["entry"]) == (
        answer.body["entry"], "revert", removal["id"],
    )  # fmt: skip
    assert keys_of(revert) == [
        ("user:/app/db/host", None, "db1"),
        ("user:/app/db/user", None, "web"),
    ]


SHOP_TOML = (
    '# shop settings\ntitle = "demo"\n\n[server]\nhost = "0.0.0.0"\n'
    "# the port the shop listens on\nport = 5432  # default postgres\nworkers = 4\n\n"
    '[db]\n# primary database\nname = "orders"\nuser = "web"  # login\n\n'
    '[log]\nlevel = "info"\n'
)


async def test_reverting_a_delete_leaves_the_toml_file_byte_for_byte(
    admin: Client, web1: Registered
) -> None:
    """The issue's case: the key goes back between its neighbours with its comment line
    and trailing comment, a number stays a number, a table comes back with its comments."""
    instance, prefix = web1.id, web1.prefix
    host = KDB(web1.daemon.paths)
    host.mount("shop.toml", "user:/shop", "toml")
    file = host.file_of("user:/shop")
    file.write_text(SHOP_TOML)

    for removed, gone in (("user:/shop/server/port", "5432"), ("user:/shop/db", "orders")):
        assert (await admin.delete(f"{prefix}/kdb/{removed}")).status == 200
        assert gone not in file.read_text()
        [removal] = (await admin.get(f"/api/history?instance={instance}&limit=1")).body
        assert removal["action"] == "rm" and removal["key"] == removed
        answer = await admin.post(f"/api/history/{removal['id']}/revert")
        assert answer.status == 200, answer.body
        assert file.read_text() == SHOP_TOML


async def test_revert_refuses_to_overwrite_a_later_change_unless_forced(
    admin: Client, clients: ClientFactory, web1: Registered
) -> None:
    instance, prefix, daemon = web1.id, web1.prefix, web1.daemon
    assert (await admin.put(f"{prefix}/kdb/user:/app/db/host", "db2")).status == 200
    [mine] = (await admin.get(f"/api/history?instance={instance}")).body
    other = await clients("editor")
    assert (await other.put(f"{prefix}/kdb/user:/app/db/host", "db3")).status == 200

    refused = await admin.post(f"/api/history/{mine['id']}/revert")
    assert refused.status == 409, refused.body
    assert refused.body["error"]["keys"] == ["user:/app/db/host"]
    assert "user:/app/db/host" in refused.body["error"]["message"]
    assert daemon.keys["user:/app/db/host"][0] == "db3"

    await daemon.kdb_set("user:/app/db/host", "db2", {"description": "primary"})
    behind_its_back = await admin.post(f"/api/history/{mine['id']}/revert")
    assert behind_its_back.status == 200, behind_its_back.body  # as the entry left it again
    assert daemon.keys["user:/app/db/host"][0] == "db1"

    assert (await other.put(f"{prefix}/kdb/user:/app/db/host", "db4")).status == 200
    viewer = await clients("viewer")
    assert (await viewer.post(f"/api/history/{mine['id']}/revert?force=true")).status == 403
    forced = await other.post(f"/api/history/{mine['id']}/revert?force=true")
    assert forced.status == 200, forced.body
    assert daemon.keys["user:/app/db/host"] == ("db1", {"description": "primary"})
    assert (await admin.post("/api/history/999999/revert")).status == 404


async def test_rollback_restores_a_subtree_to_a_point_in_time(
    admin: Client, web1: Registered
) -> None:
    instance, prefix, daemon = web1.id, web1.prefix, web1.daemon
    assert (await admin.put(f"{prefix}/kdb/user:/app/db/host", "db2")).status == 200
    [first] = (await admin.get(f"/api/history?instance={instance}")).body
    assert (await admin.put(f"{prefix}/kdb/user:/app/db/host", "db3")).status == 200
    assert (await admin.put(f"{prefix}/kdb/user:/app/db/name", "orders")).status == 200
    assert (await admin.put(f"{prefix}/kdb/user:/app/other", "stays")).status == 200
    body = {"key": "user:/app/db", "at": first["time"]}

    preview = await admin.post(f"{prefix}/rollback?preview=true", body)
    assert preview.status == 200, preview.body
    [target] = preview.body["targets"]
    assert keys_of(target) == [
        ("user:/app/db/host", "db3", "db2"),
        ("user:/app/db/name", "orders", None),
    ]
    assert daemon.keys["user:/app/db/host"][0] == "db3"

    await daemon.kdb_set("user:/app/db/name", "changed-on-the-host", {})
    refused = await admin.post(f"{prefix}/rollback", body)
    assert refused.status == 409 and refused.body["error"]["keys"] == ["user:/app/db/name"]
    forced = await admin.post(f"{prefix}/rollback?force=true", body)
    assert forced.status == 200, forced.body
    keys = daemon.keys
    assert keys["user:/app/db/host"][0] == "db2"
    assert "user:/app/db/name" not in keys
    assert keys["user:/app/other"][0] == "stays"
    bad = await admin.post(f"{prefix}/rollback", {"key": "user:/app/db", "at": "yesterday"})
    assert bad.status == 400 and bad.body["error"]["field"] == "at"


async def test_a_cluster_change_is_in_the_clusters_history_and_can_be_reverted(
    admin: Client, register: Register, network: InProcessNetwork
) -> None:
    member = await register("web-1", 40001)
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    joined = await admin.post(
        f"/api/clusters/{cluster['id']}/instances", {"instance": member["id"]}
    )
    assert joined.status == 201, joined.body
    prefix = f"/api/clusters/{cluster['id']}"
    assert (await admin.put(f"{prefix}/kdb/system:/app/port", "8080")).status == 200
    assert (await admin.put(f"{prefix}/kdb/system:/app/port", "9090")).status == 200
    latest, _ = (await admin.get(f"/api/history?cluster={cluster['id']}")).body
    assert keys_of(latest) == [("system:/app/port", "8080", "9090")]

    answer = await admin.post(f"/api/history/{latest['id']}/revert")
    assert answer.status == 200, answer.body
    assert (await admin.get(f"{prefix}/kdb/system:/app/port")).body["value"] == "8080"
    assert network["tcp://127.0.0.1:40001"].keys["system:/app/port"][0] == "8080"


async def test_undo_and_redo_are_kept_per_user_on_the_server(
    admin: Client, clients: ClientFactory, web1: Registered
) -> None:
    editor, prefix = await clients("editor"), web1.prefix
    assert (await editor.put(f"{prefix}/kdb/user:/app/db/host", "db2")).status == 200
    assert (await editor.delete(f"{prefix}/kdb/user:/app/db/user")).status == 200
    assert (await admin.put(f"{prefix}/kdb/user:/app/other", "admin's")).status == 200

    state = (await editor.get("/api/history/undo")).body
    assert (state["undo"]["action"], state["undo"]["key"], state["redo"]) == (
        "rm", "user:/app/db/user", None,
    )  # fmt: skip
    assert (await editor.post(f"/api/history/{state['undo']['id']}/revert")).status == 200
    state = (await editor.get("/api/history/undo")).body
    assert state["undo"]["key"] == "user:/app/db/host"
    assert state["redo"]["action"] == "revert"
    assert web1.daemon.keys["user:/app/db/user"][0] == "web"

    assert (await editor.post(f"/api/history/{state['redo']['id']}/revert")).status == 200
    state = (await editor.get("/api/history/undo")).body
    assert (state["undo"]["key"], state["redo"]) == ("user:/app/db/user", None)
    assert "user:/app/db/user" not in web1.daemon.keys
    assert (await admin.get("/api/history/undo")).body["undo"]["key"] == "user:/app/other"

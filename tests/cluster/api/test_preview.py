"""`?preview=true` on every write route: what would change, per target and per cluster member,
over REST and ZWS, through elektrad's real service and files; and that it changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.services import ClusterServiceFactory
from elektraweb.wire import Event
from support.inprocess import InProcessNetwork
from support.zws import open_zws

from ..conftest import ClientFactory, Register
from ..fakes import Client
from .conftest import Registered


@pytest.fixture
def cluster_service() -> ClusterServiceFactory:
    return ConvergingClusterService


def only_target(answer: Any) -> dict[str, Any]:
    assert answer.status == 200, answer.body
    assert answer.body["preview"] is True
    [target] = answer.body["targets"]
    result: dict[str, Any] = target
    return result


async def test_every_instance_write_previews_its_changes_and_changes_nothing(
    server: Server, admin: Client, web1: Registered
) -> None:
    prefix, daemon = web1.prefix, web1.daemon
    keys_before = daemon.keys
    audit_before = (await admin.get("/api/audit")).body
    events = daemon.subscribe()
    await events.start()

    set_value = only_target(await admin.put(f"{prefix}/kdb/user:/app/port?preview=true", "9090"))
    assert set_value["refused"] is None
    assert set_value["changes"] == [
        {
            "key": "user:/app/port",
            "before": "8080",
            "after": "9090",
            "meta_before": {"check/type": "long"},
            "meta_after": {"check/type": "long"},
        }
    ]

    removed = only_target(await admin.delete(f"{prefix}/kdb/user:/app/db?preview=true"))
    assert [(c["key"], c["before"], c["after"]) for c in removed["changes"]] == [
        ("user:/app/db/host", "db1", None),
        ("user:/app/db/user", "web", None),
    ]
    assert removed["changes"][0]["meta_before"] == {"description": "primary"}
    assert removed["changes"][0]["meta_after"] is None

    moved = only_target(
        await admin.post(f"{prefix}/kdbMv/user:/app/db?preview=true", "user:/app/database")
    )
    assert {c["key"] for c in moved["changes"]} == {
        "user:/app/db/host", "user:/app/db/user",
        "user:/app/database/host", "user:/app/database/user",
    }  # fmt: skip
    copied = only_target(
        await admin.post(f"{prefix}/kdbCp/user:/app/db?preview=true", "user:/app/copy")
    )
    assert [c["key"] for c in copied["changes"]] == ["user:/app/copy/host", "user:/app/copy/user"]
    meta = only_target(
        await admin.post(
            f"{prefix}/kdbMeta/user:/app/port?preview=true", {"key": "description", "value": "p"}
        )
    )
    assert meta["changes"][0]["meta_after"] == {"check/type": "long", "description": "p"}
    replaced = only_target(
        await admin.put(
            f"{prefix}/kdbAll/user:/app/db?preview=true",
            {"keys": [{"name": "user:/app/db/host", "value": "db2"}]},
        )
    )
    assert [(c["key"], c["after"]) for c in replaced["changes"]] == [
        ("user:/app/db/host", "db2"),
        ("user:/app/db/user", None),
    ]
    imported = only_target(
        await admin.post(
            f"{prefix}/kdbImport/user:/app/db?preview=true&format=ini&strategy=overwrite",
            data="host = db3\nport = 5432\n",
            headers={"Content-Type": "text/plain"},
        )
    )
    assert [(c["key"], c["before"], c["after"]) for c in imported["changes"]] == [
        ("user:/app/db/host", "db1", "db3"),
        ("user:/app/db/port", None, "5432"),
    ]

    assert daemon.keys == keys_before
    assert (await admin.get("/api/audit")).body == audit_before
    # Events leave before a write's reply: the first one after the previews is a real write's.
    assert (await admin.put(f"{prefix}/kdb/user:/app/port", "8081")).status == 200
    first = await events.receive()
    assert isinstance(first, Event)
    assert first.key == "user:/app/port"
    assert first.new is not None and first.new.value == "8081"
    await events.close()


async def test_a_write_the_instance_would_refuse_is_previewed_as_refused(
    admin: Client, web1: Registered
) -> None:
    prefix, daemon = web1.prefix, web1.daemon
    invalid = only_target(await admin.put(f"{prefix}/kdb/user:/app/port?preview=true", "many"))
    assert invalid["changes"] == []
    assert invalid["refused"]["code"] == "validation"
    assert invalid["refused"]["key"] == "user:/app/port"
    stale = only_target(
        await admin.put(f"{prefix}/kdb/user:/app/port?preview=true&expect=none", "1")
    )
    assert stale["refused"]["code"] == "conflict"
    assert daemon.keys["user:/app/port"][0] == "8080"


async def test_preview_needs_the_writes_role_and_works_over_zws(
    server: Server, clients: ClientFactory, web1: Registered
) -> None:
    prefix, daemon = web1.prefix, web1.daemon
    viewer = await clients("viewer")
    assert (await viewer.put(f"{prefix}/kdb/user:/app/port?preview=true", "1")).status == 403

    editor = await clients("editor")
    zws = await open_zws(editor.session, server.url.replace("http", "ws", 1) + "/zmq")
    try:
        answer = await zws.request(
            b"1",
            {"method": "DELETE", "path": f"{prefix}/kdb/user:/app/db?preview=true"},
        )
    finally:
        await zws.ws.close()
    assert answer["status"] == 200, answer
    [target] = answer["body"]["targets"]
    assert [c["key"] for c in target["changes"]] == ["user:/app/db/host", "user:/app/db/user"]
    assert "user:/app/db/host" in daemon.keys


async def test_a_cluster_write_previews_the_desired_state_and_every_member(
    admin: Client, register: Register, network: InProcessNetwork, server: Server
) -> None:
    first, second = await register("web-1", 40001), await register("web-2", 40002)
    await network["tcp://127.0.0.1:40002"].kdb_set("system:/app/port", "7070", {})
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    for member in (first, second):
        joined = await admin.post(
            f"/api/clusters/{cluster['id']}/instances", {"instance": member["id"]}
        )
        assert joined.status == 201, joined.body
    prefix = f"/api/clusters/{cluster['id']}"
    assert (await admin.put(f"{prefix}/kdb/system:/app/port", "8080")).status == 200
    audit_before = (await admin.get("/api/audit")).body

    answer = await admin.put(f"{prefix}/kdb/system:/app/port?preview=true", "9090")
    assert answer.status == 200, answer.body
    desired, *members = answer.body["targets"]
    assert desired["cluster"] == cluster["id"]
    assert [(c["key"], c["before"], c["after"]) for c in desired["changes"]] == [
        ("system:/app/port", "8080", "9090")
    ]
    assert [m["instance"] for m in members] == [first["id"], second["id"]]
    for member in members:
        assert member["refused"] is None
        assert [(c["before"], c["after"]) for c in member["changes"]] == [("8080", "9090")]

    protected = await admin.put(f"{prefix}/kdb/system:/elektra/mountpoints/x?preview=true", "nope")
    [refusal] = protected.body["targets"]
    assert refusal["cluster"] == cluster["id"] and refusal["refused"]["code"] == "protected"

    for endpoint in ("tcp://127.0.0.1:40001", "tcp://127.0.0.1:40002"):
        assert network[endpoint].keys["system:/app/port"][0] == "8080"
    assert (await admin.get(f"{prefix}/kdb/system:/app/port")).body["value"] == "8080"
    assert (await admin.get("/api/audit")).body == audit_before

"""The audit log: every change through clusterd is recorded, filterable, and append-only."""

from __future__ import annotations

import sqlite3

import pytest

from elektraweb.cluster.audit import AuditEntry
from elektraweb.instance.events import MAX_REPORTED_TEXT
from support.inprocess import InProcessNetwork

from .fakes import Client


@pytest.fixture
async def changes(admin: Client, clients, register) -> dict[str, int]:
    """Two instances changed by admin and by an editor, and a cluster."""
    one, two = await register("web-1", 40001), await register("web-2", 40002)
    editor = await clients("editor")
    await admin.put(f"/api/instances/{one['id']}/kdb/user:/app/port", "8080")
    await editor.put(f"/api/instances/{one['id']}/kdb/user:/app/port", "9090")
    await editor.put(f"/api/instances/{two['id']}/kdb/user:/other", "x")
    await admin.put(f"/api/instances/{one['id']}/kdb/user:/application", "y")
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    return {"one": one["id"], "two": two["id"], "cluster": cluster["id"]}


async def test_writes_record_who_target_key_before_and_after(admin: Client, changes) -> None:
    entries = (await admin.get(f"/api/audit?instance={changes['one']}&key=user:/app/port")).body
    assert [(e["user"], e["before"], e["after"]) for e in entries] == [
        ("editor", {"value": "8080", "meta": {}}, {"value": "9090", "meta": {}}),
        ("admin", None, {"value": "8080", "meta": {}}),
    ]
    newest = entries[0]
    assert newest["target"] == {"type": "instance", "id": str(changes["one"])}
    assert newest["action"] == "set"
    assert newest["result"]["ok"] is True
    assert newest["time"].endswith("+00:00")


async def test_filters(admin: Client, changes) -> None:
    async def keys(query: str) -> list[str | None]:
        return [entry["key"] for entry in (await admin.get(f"/api/audit?{query}")).body]

    assert await keys("user=editor") == ["user:/other", "user:/app/port"]
    # `key` is the key and what is below it, not a text prefix (user:/application is not).
    assert await keys(f"instance={changes['one']}&key=user:/app") == ["user:/app/port"] * 2
    assert await keys(f"instance={changes['two']}") == ["user:/other", None]
    cluster = (await admin.get(f"/api/audit?cluster={changes['cluster']}")).body
    assert [e["action"] for e in cluster] == ["cluster.add"]
    page = (await admin.get("/api/audit?limit=2")).body
    older = (await admin.get(f"/api/audit?limit=2&before={page[-1]['id']}")).body
    assert [e["id"] for e in page + older] == sorted({e["id"] for e in page + older}, reverse=True)
    assert (await admin.get("/api/audit?limit=0")).status == 400
    assert (await admin.get("/api/audit?instance=x")).status == 400


async def test_refused_writes_are_recorded_with_the_reason(
    admin: Client, register, network: InProcessNetwork
) -> None:
    instance = await register("web-1", 40001)
    await network["tcp://127.0.0.1:40001"].lock("user:/owned")
    refused = await admin.put(f"/api/instances/{instance['id']}/kdb/user:/owned", "x")
    assert refused.status == 423
    entry = (await admin.get("/api/audit?key=user:/owned")).body[0]
    assert entry["result"]["ok"] is False
    assert entry["result"]["error"]["code"] == "locked"
    assert entry["before"] == entry["after"] is None


async def test_registry_and_user_changes_are_recorded_without_secrets(
    admin: Client, changes
) -> None:
    await admin.post("/api/users", {"name": "olga", "password": "olgas-password", "role": "viewer"})
    token = (await admin.post("/api/tokens", {"name": "ci"})).body["token"]
    await admin.put(f"/api/instances/{changes['two']}", {"description": "second"})
    await admin.delete(f"/api/instances/{changes['two']}")
    actions = [e["action"] for e in (await admin.get("/api/audit?user=admin")).body]
    assert actions[:4] == ["instance.remove", "instance.change", "token.add", "user.add"]
    everything = str((await admin.get("/api/audit?limit=1000")).body)
    assert "olgas-password" not in everything
    assert token not in everything


async def test_the_log_is_append_only_in_the_database_itself(config, changes) -> None:
    with sqlite3.connect(config.database_path) as db:
        count = db.execute("SELECT count(*) FROM audit").fetchone()[0]
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE audit SET user = 'mallory'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM audit")
        assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == count
        assert db.execute("SELECT count(*) FROM audit WHERE user = 'mallory'").fetchone()[0] == 0


async def test_no_route_changes_the_log(admin: Client) -> None:
    for method in ("PUT", "POST", "DELETE"):
        assert (await admin.request(method, "/api/audit")).status == 405


async def test_listeners_hear_every_entry(server, admin: Client) -> None:
    heard: list[AuditEntry] = []
    server.services.audit.subscribe(heard.append)
    await admin.post("/api/clusters", {"name": "prod"})
    assert [(e.action, e.target_type, e.user) for e in heard] == [
        ("cluster.add", "cluster", "admin")
    ]


async def test_an_unanswered_write_is_recorded_with_an_unknown_outcome(
    admin: Client, register, network: InProcessNetwork
) -> None:
    instance = await register("web-1", 40001)
    daemon = network["tcp://127.0.0.1:40001"]
    await daemon.kdb_set("user:/app/port", "8080", {})
    daemon.faults.lose_replies = True  # the set is applied, no reply comes back, nor later
    answer = await admin.put(f"/api/instances/{instance['id']}/kdb/user:/app/port", "9090")
    assert answer.status == 504
    entry = (await admin.get("/api/audit?key=user:/app/port")).body[0]
    # The state comes with the reply (one round trip per write), so without one it is unknown.
    assert entry["before"] is entry["after"] is None
    assert entry["result"]["ok"] is False
    assert "no reply" in entry["result"]["before_unknown"]
    assert "no reply" in entry["result"]["after_unknown"]


async def test_a_write_is_one_round_trip_and_its_reply_is_passed_on_as_before(
    admin: Client, register, network: InProcessNetwork
) -> None:
    instance = await register("web-1", 40001)
    daemon = network["tcp://127.0.0.1:40001"]
    await daemon.kdb_set("user:/app", "root", {})
    await daemon.kdb_set("user:/app/port", "8080", {"description": "port"})
    network.calls.clear()
    answer = await admin.post(f"/api/instances/{instance['id']}/kdbCp/user:/app", "user:/copy")
    assert answer.status == 200
    assert answer.body == {"target": "user:/copy", "copied": 2}  # `changes` stay in clusterd
    assert network.ops() == ["cp"]
    entry = (await admin.get("/api/audit?key=user:/app")).body[0]
    # The source of a copy is left as it was: before and after alike.
    assert entry["before"] == entry["after"] == {"value": "root", "meta": {}}
    assert entry["result"]["reply"] == answer.body


async def test_a_refused_write_records_the_state_it_left_alone(
    admin: Client, register, network: InProcessNetwork
) -> None:
    instance = await register("web-1", 40001)
    daemon = network["tcp://127.0.0.1:40001"]
    await daemon.kdb_set("user:/app/port", "8080", {"check/type": "long"})
    answer = await admin.put(f"/api/instances/{instance['id']}/kdb/user:/app/port", "many")
    assert answer.status == 400
    entry = (await admin.get("/api/audit?key=user:/app/port")).body[0]
    assert entry["result"]["error"]["code"] == "validation"
    assert entry["before"] == entry["after"] == {"value": "8080", "meta": {"check/type": "long"}}


async def test_a_state_too_large_to_report_is_read_back(admin: Client, register) -> None:
    instance = await register("web-1", 40001)
    big = "x" * (MAX_REPORTED_TEXT + 1)  # more than elektrad reports in a write's `changes`
    answer = await admin.put(f"/api/instances/{instance['id']}/kdb/user:/big", big)
    assert answer.status == 200 and "changes_truncated" not in answer.body
    entry = (await admin.get("/api/audit?key=user:/big")).body[0]
    assert entry["before"] is None and "user:/big" in entry["result"]["before_unknown"]
    assert entry["after"] is not None and entry["after"]["value"].startswith("xxx")

"""The audit log: every change through clusterd is recorded, filterable, and append-only."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from elektraweb.cluster.audit.log import AuditEntry, AuditFilter, AuditLog, bounded, digest
from elektraweb.cluster.audit.recovery import PendingAudits
from elektraweb.cluster.config import Config
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.store.connection import INTEGRITY_ERRORS
from elektraweb.cluster.store.database import Database
from elektraweb.instance.events import MAX_REPORTED_TEXT
from support.inprocess import InProcessElektrad, InProcessNetwork

from ..conftest import ClientFactory, Register
from ..fakes import Client


@pytest.fixture
async def changes(admin: Client, clients: ClientFactory, register: Register) -> dict[str, int]:
    """Two instances changed by admin and by an editor, and a cluster."""
    one, two = await register("web-1", 40001), await register("web-2", 40002)
    editor = await clients("editor")
    await admin.put(f"/api/instances/{one['id']}/kdb/user:/app/port", "8080")
    await editor.put(f"/api/instances/{one['id']}/kdb/user:/app/port", "9090")
    await editor.put(f"/api/instances/{two['id']}/kdb/user:/other", "x")
    await admin.put(f"/api/instances/{one['id']}/kdb/user:/application", "y")
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    return {"one": one["id"], "two": two["id"], "cluster": cluster["id"]}


@pytest.fixture
async def web1(register: Register, network: InProcessNetwork) -> tuple[int, InProcessElektrad]:
    """Instance web-1 (its id, and its elektrad) with user:/app/port = 8080."""
    instance = await register("web-1", 40001)
    daemon = network["tcp://127.0.0.1:40001"]
    await daemon.kdb_set("user:/app/port", "8080", {})
    return instance["id"], daemon


async def test_writes_record_who_target_key_before_and_after(
    admin: Client, changes: dict[str, int]
) -> None:
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


async def test_filters(admin: Client, changes: dict[str, int]) -> None:
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
    admin: Client, register: Register, network: InProcessNetwork
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
    admin: Client, changes: dict[str, int]
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


async def test_the_log_is_append_only_in_the_database_itself(
    database_location: Path | str, changes: dict[str, int]
) -> None:
    """Whoever writes to the database (here a connection of its own, SQLite file or
    PostgreSQL alike), the database refuses to change or drop an entry."""
    other = Database.open(database_location)
    db = other.connection
    try:
        count = db.execute("SELECT count(*) AS n FROM audit").fetchone()
        refusals = ["UPDATE audit SET \"user\" = 'mallory'", "DELETE FROM audit"]
        refusals += ["UPDATE audit_changes SET after = NULL"]
        if db.dialect == "postgresql":  # TRUNCATE fires no row trigger: it is refused apart
            refusals += ["TRUNCATE audit CASCADE"]
        for statement in refusals:
            with pytest.raises(INTEGRITY_ERRORS, match="append-only"):
                db.execute(statement)
        assert db.execute("SELECT count(*) AS n FROM audit").fetchone() == count
        mallory = db.execute("SELECT count(*) AS n FROM audit WHERE \"user\" = 'mallory'")
        assert mallory.fetchone() == {"n": 0}
    finally:
        other.close()


async def test_no_route_changes_the_log(admin: Client) -> None:
    for method in ("PUT", "POST", "DELETE"):
        assert (await admin.request(method, "/api/audit")).status == 405


async def test_listeners_hear_every_entry(server: Server, admin: Client) -> None:
    heard: list[AuditEntry] = []
    assert server.services is not None
    server.services.audit.subscribe(heard.append)
    await admin.post("/api/clusters", {"name": "prod"})
    assert [(e.action, e.target_type, e.user) for e in heard] == [
        ("cluster.add", "cluster", "admin")
    ]


async def test_an_unanswered_write_stays_pending_until_its_target_is_read(
    server: Server, admin: Client, web1: tuple[int, InProcessElektrad]
) -> None:
    instance, daemon = web1
    daemon.faults.lose_replies = True  # the set is applied, no reply comes back, nor later
    answer = await admin.put(f"/api/instances/{instance}/kdb/user:/app/port", "9090")
    assert answer.status == 504
    entry = (await admin.get("/api/audit?key=user:/app/port")).body[0]
    # Never guessed: the write may have happened, so the entry waits for the target.
    assert entry["pending"] is True and entry["user"] == "admin"
    assert entry["result"] == {"outcome": "pending", "args": {"value": "9090"}}
    pending = PendingAudits(server.services)
    assert await pending.resolve() == 1  # still no reply: stays pending
    daemon.faults.lose_replies = False
    assert await pending.resolve() == 0
    entry = (await admin.get("/api/audit?key=user:/app/port")).body[0]
    assert entry["pending"] is False
    assert entry["result"]["outcome"] == "applied" and entry["result"]["ok"] is True
    assert entry["after"] == {"value": "9090", "meta": {}}


async def remove_unanswered(admin: Client, web1: tuple[int, InProcessElektrad]) -> None:
    """`rm user:/app/port` on a daemon that stays silent (so the entry is pending, and the key
    is still there), then answers again."""
    instance, daemon = web1
    daemon.faults.silent = True
    answer = await admin.delete(f"/api/instances/{instance}/kdb/user:/app/port")
    assert answer.status == 504
    daemon.faults.silent = False


async def test_a_pending_write_that_did_not_happen_is_resolved_as_not_applied(
    server: Server, admin: Client, web1: tuple[int, InProcessElektrad]
) -> None:
    await remove_unanswered(admin, web1)
    assert await PendingAudits(server.services).resolve() == 0
    entry = (await admin.get("/api/audit?key=user:/app/port")).body[0]
    assert (entry["action"], entry["result"]["outcome"]) == ("rm", "not-applied")
    assert entry["after"] == {"value": "8080", "meta": {}}


async def test_with_other_replicas_a_young_pending_entry_is_left_to_its_sender(
    server: Server, admin: Client, web1: tuple[int, InProcessElektrad]
) -> None:
    # Another replica's write in flight looks pending here; it is not this replica's to settle
    # until its sender must have given up (twice the longest deadline).
    await remove_unanswered(admin, web1)
    assert await PendingAudits(server.services, others_may_send=True).resolve() == 1
    entry = (await admin.get("/api/audit?key=user:/app/port")).body[0]
    assert entry["pending"] is True
    assert await PendingAudits(server.services).resolve() == 0


async def test_a_write_is_one_round_trip_and_its_reply_is_passed_on_as_before(
    admin: Client, register: Register, network: InProcessNetwork
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
    admin: Client, register: Register, network: InProcessNetwork
) -> None:
    instance = await register("web-1", 40001)
    daemon = network["tcp://127.0.0.1:40001"]
    await daemon.kdb_set("user:/app/port", "8080", {"check/type": "long"})
    answer = await admin.put(f"/api/instances/{instance['id']}/kdb/user:/app/port", "many")
    assert answer.status == 400
    entry = (await admin.get("/api/audit?key=user:/app/port")).body[0]
    assert entry["result"]["error"]["code"] == "validation"
    assert entry["before"] == entry["after"] == {"value": "8080", "meta": {"check/type": "long"}}


async def test_a_state_too_large_to_report_is_audited_as_its_digest(
    admin: Client, web1: tuple[int, InProcessElektrad]
) -> None:
    instance, daemon = web1
    # More than elektrad reports in a write's `changes`: it sends digests in place of values.
    first, second = "a" * (MAX_REPORTED_TEXT + 1), "b" * (MAX_REPORTED_TEXT + 1)
    await daemon.kdb_set("user:/big", first, {})
    answer = await admin.put(f"/api/instances/{instance}/kdb/user:/big", second)
    assert answer.status == 200 and "changes" not in answer.body
    entry = (await admin.get("/api/audit?key=user:/big")).body[0]
    # The real state before, not a read back after the fact: nothing unknown.
    assert entry["before"] == {"value": digest(first), "meta": {}}
    assert entry["after"] == {"value": digest(second), "meta": {}}
    assert "before_unknown" not in entry["result"]
    assert daemon.keys["user:/big"][0] == second


async def test_a_retention_never_drops_a_pending_entry(
    server: Server, config: Config, admin: Client, web1: tuple[int, InProcessElektrad]
) -> None:
    instance, daemon = web1
    daemon.faults.silent = True
    answer = await admin.put(f"/api/instances/{instance}/kdb/user:/app/port", "9090")
    assert answer.status == 504
    [pending] = (await admin.get("/api/audit?key=user:/app/port")).body
    answer = await admin.post("/api/audit/retention", {"before_id": pending["id"] + 1})
    assert answer.status == 409
    assert f"audit entry {pending['id']} is still pending" in answer.body["error"]["message"]
    assert list(config.audit_export_dir.glob("*")) == []
    daemon.faults.silent = False
    assert await PendingAudits(server.services).resolve() == 0
    answer = await admin.post("/api/audit/retention", {"before_id": pending["id"] + 1})
    assert answer.status == 200, answer.body
    [exported] = config.audit_export_dir.glob("*.jsonl")
    assert exported.name == answer.body["after"]["file"]
    assert [json.loads(line)["id"] for line in exported.read_text().splitlines()][-1] == (
        pending["id"]
    )


async def test_a_version_1_log_keeps_its_entries_and_gains_intents_and_retention(
    tmp_path: Path,
) -> None:
    path = tmp_path / "clusterd.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE clusters (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '');
        CREATE TABLE instances (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
            endpoint TEXT NOT NULL, endpoint_key TEXT NOT NULL UNIQUE,
            public_key TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
            visibility TEXT NOT NULL DEFAULT 'user', cluster_id INTEGER REFERENCES clusters(id));
        CREATE TABLE audit (id INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT NULL,
            action TEXT NOT NULL, target_type TEXT NOT NULL, target_id TEXT, key TEXT,
            before TEXT, after TEXT, result TEXT NOT NULL);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        INSERT INTO audit (time, user, action, target_type, target_id, key, result)
            VALUES ('2026-01-01T00:00:00.000+00:00', 'olga', 'set', 'instance', '3',
                    'user:/app', '{"ok": true}');
        PRAGMA user_version = 1;
        """
    )
    old.close()
    database = Database.open(path)
    try:
        audit = AuditLog(database)
        [kept] = audit.entries(AuditFilter())
        assert (kept.user, kept.pending, kept.result) == ("olga", False, {"ok": True})
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            database.connection.execute("UPDATE audit SET user = 'mallory'")
        intent = await audit.intend(
            user="olga", action="rm", target_type="instance", target_id=3, key="user:/a", args={}
        )
        assert audit.unresolved() == []  # in flight: its sender concludes it
        audit.release(intent)
        assert [entry.id for entry in audit.unresolved()] == [intent.id]
        await audit.conclude(intent, None, None, {"ok": True, "outcome": "applied"})
        with pytest.raises(LookupError):
            await audit.conclude(intent, None, None, {"ok": False})
    finally:
        database.close()


def test_a_write_of_many_values_each_under_the_limit_is_kept_as_one_digest() -> None:
    one = {"keys": [{"name": "user:/a", "value": "v" * 60_000}]}
    assert bounded(one, 64 * 1024) == one
    many = {"keys": [{"name": f"user:/k{n}", "value": "v" * 60_000} for n in range(5)]}
    assert bounded(many, 64 * 1024) == digest(json.dumps(many))

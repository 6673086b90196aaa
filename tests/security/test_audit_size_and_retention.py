"""Issue 8 item 9: the audit log is bounded and leaves only by retention (docs/security.md §9).

The attacks, through a real clusterd and elektrad: a 15 MB value (it made a 31 MB audit row
whose `before` was null), and a non-admin, or the database itself, trying to drop entries.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from elektraweb.cluster.config import AUDIT_VALUE_LIMIT, DATABASE_FILE
from support.processes import Api, Clusterd, Elektrad
from support.zws import open_zws

EDITOR_PASSWORD = "editor-password-1"


def digest(text: str) -> dict[str, Any]:
    return {"size": len(text.encode()), "sha256": hashlib.sha256(text.encode()).hexdigest()}


class System:
    def __init__(self, base: Path) -> None:
        self.clusterd = Clusterd(base / "clusterd")
        self.host = Elektrad(base / "web", self.clusterd.public_key, "web")
        self.instance = 0

    @property
    def api(self) -> Api:
        return self.clusterd.api

    def key_path(self, name: str) -> str:
        return f"/api/instances/{self.instance}/kdb/{quote(name)}"

    async def audit(self, query: str = "") -> list[dict[str, Any]]:
        status, entries = await self.api("GET", f"/api/audit?limit=1000{query}")
        assert status == 200, entries
        return list(entries)


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    system = System(tmp_path)
    try:
        await asyncio.gather(system.clusterd.start(), system.host.start())
        status, instance = await system.api(
            "POST",
            "/api/instances",
            {"name": "web", "endpoint": system.host.endpoint, "public_key": system.host.public_key},
        )
        assert status == 201, instance
        system.instance = instance["id"]
        yield system
    finally:
        await system.host.stop()
        await system.clusterd.stop()


@pytest.mark.timeout(240)
async def test_a_15_mb_value_is_audited_as_its_digest_with_the_real_before(
    system: System,
) -> None:
    first, second = "a" * 15_000_000, "b" * 15_000_000
    for value in (first, second):
        status, body = await system.api("PUT", system.key_path("user:/big"), value)
        assert status == 200, body
    [replaced, created] = [e for e in await system.audit("&key=user:/big")]
    assert created["before"] is None  # it did not exist: null means exactly that
    assert replaced["before"] == {"value": digest(first), "meta": {}}
    assert replaced["after"] == {"value": digest(second), "meta": {}}
    assert replaced["result"]["args"] == {"value": digest(second)}
    assert len(json.dumps(replaced)) < 2048
    database = system.clusterd.state / DATABASE_FILE
    stored = sum(path.stat().st_size for path in database.parent.glob(f"{DATABASE_FILE}*"))
    assert stored < 4 * 1024 * 1024, f"30 MB of values made the database {stored} bytes"


async def test_values_up_to_the_limit_are_kept_in_full(system: System) -> None:
    fits, over = "f" * (AUDIT_VALUE_LIMIT - 64), "o" * (AUDIT_VALUE_LIMIT + 1)
    for name, value in (("user:/fits", fits), ("user:/over", over)):
        status, body = await system.api("PUT", system.key_path(name), value)
        assert status == 200, body
    [kept] = await system.audit("&key=user:/fits")
    [cut] = await system.audit("&key=user:/over")
    assert kept["after"]["value"] == fits and kept["result"]["args"]["value"] == fits
    assert cut["after"]["value"] == digest(over) and cut["result"]["args"]["value"] == digest(over)


async def _editor(system: System) -> Api:
    status, body = await system.api(
        "POST", "/api/users", {"name": "erin", "password": EDITOR_PASSWORD, "role": "editor"}
    )
    assert status == 201, body
    editor = Api(system.clusterd.url)
    status, body = await editor("POST", "/api/login", {"user": "erin", "password": EDITOR_PASSWORD})
    assert status == 200, body
    return editor


async def test_only_an_admin_retains_and_the_entries_go_to_a_file_first(system: System) -> None:
    for n in range(5):
        status, body = await system.api("PUT", system.key_path(f"user:/app/k{n}"), f"v{n}")
        assert status == 200, body
    entries = await system.audit()
    cut = sorted(entry["id"] for entry in entries)[4]  # drop the four oldest
    editor = await _editor(system)
    try:
        status, body = await editor("POST", "/api/audit/retention", {"before_id": cut})
        assert (status, body["error"]["code"]) == (403, "forbidden")
        async with aiohttp.ClientSession(cookie_jar=editor.session.cookie_jar) as session:
            zws = await open_zws(session, system.clusterd.url.replace("http", "ws") + "/zmq")
            reply = await zws.request(
                b"1", {"method": "POST", "path": "/api/audit/retention", "body": {"before_id": cut}}
            )
            assert reply["status"] == 403
            await zws.ws.close()
    finally:
        await editor.close()
    assert len(await system.audit()) == len(entries) + 1  # erin's account, nothing dropped

    # The file's place is clusterd's to choose: a caller-chosen path is refused.
    status, body = await system.api(
        "POST", "/api/audit/retention", {"before_id": cut, "file": "/tmp/x.jsonl"}
    )
    assert status == 400 and "file" in body["error"]["message"]
    status, body = await system.api(
        "POST", "/api/audit/retention", {"before_id": cut, "before_time": "2026-01-01T00:00Z"}
    )
    assert status == 400 and body["error"]["field"] == "before_id"

    status, retention = await system.api("POST", "/api/audit/retention", {"before_id": cut})
    assert status == 200, retention
    assert (retention["action"], retention["user"]) == ("audit.retain", "admin")
    exported = system.clusterd.state / "audit-exports" / retention["after"]["file"]
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [line["id"] for line in lines] == sorted(e["id"] for e in entries if e["id"] < cut)
    assert retention["after"]["entries"] == len(lines) == 4
    assert retention["after"]["sha256"] == hashlib.sha256(exported.read_bytes()).hexdigest()
    left = await system.audit()
    assert min(entry["id"] for entry in left if entry["action"] != "audit.retain") == cut
    assert retention["id"] in [entry["id"] for entry in left]

    # Over ZWS, as admin: the same operation through the same dispatcher; the first retention
    # stays even when a later one covers it.
    async with aiohttp.ClientSession(cookie_jar=system.api.session.cookie_jar) as session:
        zws = await open_zws(session, system.clusterd.url.replace("http", "ws") + "/zmq")
        later = retention["id"] + 1
        reply = await zws.request(
            b"2", {"method": "POST", "path": "/api/audit/retention", "body": {"before_id": later}}
        )
        assert reply["status"] == 200, reply
        await zws.ws.close()
    assert retention["id"] in [entry["id"] for entry in await system.audit()]


async def test_the_database_refuses_any_other_removal_or_change(system: System) -> None:
    status, body = await system.api("PUT", system.key_path("user:/app/port"), "8080")
    assert status == 200, body
    database = sqlite3.connect(system.clusterd.state / DATABASE_FILE)
    try:
        for statement in (
            "DELETE FROM audit",
            "UPDATE audit SET user = 'mallory'",
            "UPDATE audit SET pending = 1",
        ):
            with pytest.raises(sqlite3.DatabaseError, match=r"append-only|permanent"):
                database.execute(statement)
        # Not by claiming a retention that no retention entry of the log records either.
        database.execute(
            "INSERT INTO audit_retention (id, through_id, file, entries, sha256)"
            " VALUES (1000, 1000, 'forged', 0, '')"
        )
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            database.execute("DELETE FROM audit")
        with pytest.raises(sqlite3.DatabaseError, match="permanent"):
            database.execute("DELETE FROM audit_retention")
    finally:
        database.close()
    assert any(entry["key"] == "user:/app/port" for entry in await system.audit())

"""Issue 8 item 5: the audit log survives crashes (docs/security.md §5).

The attack: SIGKILL clusterd (and now and then an elektrad) while cluster and instance writes
are in flight, again and again. Whatever reached a host must then be in the audit log, naming
who asked for it, with its outcome resolved by reading the target: never a missing entry, and
never an applied write recorded as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from support.processes import Api, Clusterd, Elektrad

KILLS = int(os.environ.get("AUDIT_CRASH_KILLS", "10"))
"""clusterd SIGKILLs of the loop; raise it (e.g. 100) for a longer run."""
EDITOR_PASSWORD = "editor-password-1"
SETTLE_SECONDS = 90.0


class Hosts:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.clusterd = Clusterd(base / "clusterd")
        self.elektrads = [
            Elektrad(base / name, self.clusterd.public_key, name) for name in ("web", "db")
        ]
        self.instances: list[int] = []
        self.cluster = 0

    async def restart_clusterd(self) -> Clusterd:
        self.clusterd = await Clusterd(self.base / "clusterd").start()
        return self.clusterd


async def _login(url: str, user: str, password: str) -> Api:
    api = Api(url)
    status, body = await api("POST", "/api/login", {"user": user, "password": password})
    assert status == 200, body
    return api


@pytest.fixture
async def hosts(tmp_path: Path) -> AsyncIterator[Hosts]:
    hosts = Hosts(tmp_path)
    try:
        await asyncio.gather(hosts.clusterd.start(), *(e.start() for e in hosts.elektrads))
        api = hosts.clusterd.api
        status, cluster = await api("POST", "/api/clusters", {"name": "prod"})
        assert status == 201, cluster
        hosts.cluster = cluster["id"]
        for host in hosts.elektrads:
            status, instance = await api(
                "POST",
                "/api/instances",
                {"name": host.name, "endpoint": host.endpoint, "public_key": host.public_key},
            )
            assert status == 201, instance
            hosts.instances.append(instance["id"])
            status, body = await api(
                "POST", f"/api/clusters/{hosts.cluster}/instances", {"instance": instance["id"]}
            )
            assert status in (200, 201), body
        status, body = await api(
            "POST", "/api/users", {"name": "erin", "password": EDITOR_PASSWORD, "role": "editor"}
        )
        assert status == 201, body
        yield hosts
    finally:
        await asyncio.gather(*(e.stop() for e in hosts.elektrads))
        await hosts.clusterd.stop()


async def _writes_in_flight(hosts: Hosts, round_: int, editor: Api) -> list[asyncio.Task[Any]]:
    """Cluster writes by admin and erin, and direct writes to each instance, all at once.
    Each value names its writer and is new, so it tells which request put it on a host."""
    admin = hosts.clusterd.api
    requests = []
    for i in range(6):
        api, user = (admin, "admin") if i % 2 else (editor, "erin")
        key = quote(f"user:/crash/c{round_}-{i}")
        path = f"/api/clusters/{hosts.cluster}/kdb/{key}"
        requests.append(api("PUT", path, f"{user}:{round_}:{i}"))
    for n, instance in enumerate(hosts.instances):
        key = quote(f"user:/direct/h{round_}-{n}")
        requests.append(admin("PUT", f"/api/instances/{instance}/kdb/{key}", f"admin:{round_}:d"))
    return [asyncio.ensure_future(request) for request in requests]


async def _settled(api: Api) -> list[dict[str, Any]]:
    """The audit log once no entry is pending any more (bounded: fails after a while)."""
    async with asyncio.timeout(SETTLE_SECONDS):
        while True:
            status, entries = await api("GET", "/api/audit?limit=1000")
            assert status == 200, entries
            if not any(entry["pending"] for entry in entries):
                return list(entries)
            await asyncio.sleep(0.2)


async def _host_values(api: Api, instance: int) -> dict[str, str]:
    """The keys the attack wrote that the host holds now, with their values."""
    status, listing = await api("GET", f"/api/instances/{instance}/kdbLs/user:/?limit=10000")
    assert status == 200, listing
    values = {}
    for name in listing["keys"]:
        if name.startswith(("user:/crash/", "user:/direct/")):
            status, key = await api("GET", f"/api/instances/{instance}/kdb/{quote(name)}")
            assert status == 200 and key["exists"], key
            values[name] = key["value"]
    return values


@pytest.mark.timeout(600)
async def test_every_change_on_a_host_survives_sigkills_in_the_audit_log(hosts: Hosts) -> None:
    killed_writes = 0
    for round_ in range(KILLS):
        clusterd = hosts.clusterd
        editor = await _login(clusterd.url, "erin", EDITOR_PASSWORD)
        try:
            writes = await _writes_in_flight(hosts, round_, editor)
            # Kill once the first write is answered: the others are on their way.
            await asyncio.wait(writes, return_when=asyncio.FIRST_COMPLETED)
            victim = hosts.elektrads[round_ % 2] if round_ % 3 == 2 else None
            await asyncio.gather(clusterd.kill(), *([victim.kill()] if victim else []))
            for write in writes:
                with contextlib.suppress(aiohttp.ClientError):
                    await write
                killed_writes += not write.done() or write.exception() is not None
        finally:
            await editor.close()
        if victim is not None:
            await victim.start()
        await hosts.restart_clusterd()
    assert killed_writes > 0, "no write was in flight when clusterd was killed"

    api = hosts.clusterd.api
    entries = await _settled(api)
    by_key: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_key.setdefault(entry["key"], []).append(entry)
    seen = 0
    for instance in hosts.instances:
        for name, value in (await _host_values(api, instance)).items():
            asked = [e for e in by_key.get(name, []) if e["result"]["args"]["value"] == value]
            assert asked, f"{name}={value} is on instance {instance} without an audit entry"
            writer = value.split(":")[0]
            assert all(entry["user"] == writer for entry in asked), asked
            # Applied, and never recorded as failed: an outcome read from the target.
            assert [e["result"]["outcome"] for e in asked] == ["applied"], asked
            assert asked[0]["result"]["ok"] is True
            seen += 1
    assert seen > 0

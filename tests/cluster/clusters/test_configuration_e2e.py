"""Cluster semantics end to end: clusterd in this process (REST, the real gateway, the instance
feed, the cluster service) in front of real elektrad processes on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from elektraweb.cluster.build import build
from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.config import Config
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.instances.feed import InstanceFeed
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.services import Services
from elektraweb.wire import KeyPair, RemoteError, ZmqTransport
from elektraweb.wire.errors import ErrorCode
from support.processes import QUICK_LINK, Elektrad
from support.zws import open_zws

from ..fakes import ADMIN_PASSWORD, Client
from .waiting import audited_unlocks, data_of, eventually, next_event

KEY = "system:/app/port"


@dataclass
class Stack:
    server: Server
    services: Services
    hub: EventHub
    feed: InstanceFeed
    keys: KeyPair
    admin: Client
    base: Path
    hosts: list[Elektrad] = field(default_factory=list)

    @property
    def service(self) -> ConvergingClusterService:
        assert isinstance(self.services.cluster_service, ConvergingClusterService)
        return self.services.cluster_service

    def sync_state(self, cluster_id: int) -> str:
        """The cluster's sync state now, for the members the registry has."""
        return self.service.cluster_status(self.services.registry.cluster(cluster_id))["state"]

    async def host(self, name: str) -> tuple[Elektrad, int]:
        """Start an elektrad and register it; returns it and its instance id."""
        host = await Elektrad(self.base / name, self.keys.public, name).start()
        self.hosts.append(host)
        return host, await self.add(host, name)

    async def add(self, host: Elektrad, name: str) -> int:
        """Register a running elektrad as a new instance; returns its id once it is online."""
        answer = await self.admin.post(
            "/api/instances",
            {"name": name, "endpoint": host.endpoint, "public_key": host.public_key},
        )
        assert answer.status == 201, answer.body
        instance_id: int = answer.body["id"]
        await eventually(lambda: self.feed.events_online(instance_id), timeout=20)
        return instance_id


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    keys = KeyPair.generate()
    config = Config(
        state_dir=tmp_path / "clusterd",
        http_port=0,
        admin_password=ADMIN_PASSWORD,
        static_dir=tmp_path / "web",
        instance_timeout=4.0,
    )
    # Wired as the clusterd command wires it, with quicker reconnects.
    clusterd = build(config, keys, gateway=WireGateway(keys, options=QUICK_LINK))
    server, hub, feed = clusterd.server, clusterd.hub, clusterd.feed
    await server.start()
    admin = Client(server.url, {"X-Requested-With": "test"})
    assert (await admin.login("admin", ADMIN_PASSWORD)).status == 200
    assert server.services is not None
    stack = Stack(server, server.services, hub, feed, keys, admin, tmp_path)
    try:
        yield stack
    finally:
        await admin.close()
        await server.stop()
        hub.close()
        for host in stack.hosts:
            await host.stop()


async def cluster_of(stack: Stack, *members: int) -> str:
    cluster = (await stack.admin.post("/api/clusters", {"name": "prod"})).body
    for member in members:
        joined = await stack.admin.post(
            f"/api/clusters/{cluster['id']}/instances", {"instance": member}
        )
        assert joined.status == 201, joined.body
    return f"/api/clusters/{cluster['id']}"


async def value_on(stack: Stack, member: int) -> Any:
    return (await stack.admin.get(f"/api/instances/{member}/kdb/{KEY}")).body.get("value")


async def test_members_converge_new_ones_receive_the_state_and_locks_hold_everywhere(
    stack: Stack,
) -> None:
    web1, first = await stack.host("web-1")
    web2, second = await stack.host("web-2")
    cluster = await cluster_of(stack, first, second)

    applied = await stack.admin.put(f"{cluster}/kdb/{KEY}", "8080")
    assert {r["status"] for r in applied.body["members"].values()} == {"applied"}
    assert await web1.kdb("get", KEY) == await web2.kdb("get", KEY) == "8080"

    refused = await stack.admin.put(f"/api/instances/{first}/kdb/{KEY}", "1")
    assert refused.status == 423 and "'prod'" in refused.body["error"]["message"]
    token = (await stack.admin.post("/api/tokens", {"name": "script"})).body["token"]
    zws_url = stack.server.url.replace("http", "ws", 1) + f"/zmq?token={token}"
    zws = await open_zws(stack.admin.session, zws_url)
    over_zws = await zws.request(
        b"1", {"method": "PUT", "path": f"/api/instances/{first}/kdb/{KEY}", "body": "1"}
    )
    await zws.ws.close()
    assert over_zws["status"] == 423 and "'prod'" in over_zws["body"]["error"]["message"]
    async with ZmqTransport(web1.endpoint, server_key=web1.public_key, keypair=stack.keys) as link:
        with pytest.raises(RemoteError) as direct:
            await link.request("set", {"key": KEY, "value": "1"})
    assert direct.value.code is ErrorCode.LOCKED

    await web2.stop()
    partly = await stack.admin.put(f"{cluster}/kdb/{KEY}", "9090")
    assert partly.body["members"][str(first)]["status"] == "applied"
    assert partly.body["members"][str(second)]["status"] == "pending"
    await web2.start()  # same port, same key: the feed sees it return
    await eventually(lambda: stack.sync_state(1) == "in-sync", timeout=20)
    assert await value_on(stack, second) == "9090"

    web3, third = await stack.host("web-3")
    joined = await stack.admin.post(f"{cluster}/instances", {"instance": third})
    assert joined.body["apply"]["status"] == "applied"
    assert await web3.kdb("get", KEY) == "9090"


async def test_drift_is_restored_and_leaving_unlocks(stack: Stack) -> None:
    web1, member = await stack.host("web-1")
    cluster = await cluster_of(stack, member)
    await stack.admin.put(f"{cluster}/kdb/{KEY}", "8080")

    with stack.hub.subscribe(["cluster/1/drift/"]) as drifts:
        await web1.kdb("set", KEY, "6666")  # behind everybody's back
        drift = await next_event(drifts, timeout=20)
    assert (data_of(drift)["found"]["value"], drift.data["restored"]) == ("6666", True)
    assert drift.data["origin"] == "external"
    assert await web1.kdb("get", KEY) == "8080"
    audit = (await stack.admin.get(f"/api/audit?instance={member}&key={KEY}")).body
    assert [entry["action"] for entry in audit][:1] == ["drift"]

    left = await stack.admin.delete(f"{cluster}/instances/{member}")
    assert left.body["unlock"] == {"ok": True}
    assert (await stack.admin.put(f"/api/instances/{member}/kdb/{KEY}", "7")).status == 200
    assert await web1.kdb("get", KEY) == "7"


async def test_a_host_removed_while_offline_is_unlocked_when_it_is_added_again(
    stack: Stack,
) -> None:
    web1, member = await stack.host("web-1")
    cluster = await cluster_of(stack, member)
    await stack.admin.put(f"{cluster}/kdb/{KEY}", "8080")
    await web1.stop()
    removed = await stack.admin.delete(f"/api/instances/{member}")
    assert removed.status == 200, removed.body
    [removal] = (await stack.admin.get(f"/api/audit?instance={member}&limit=1")).body
    assert removal["action"] == "instance.remove" and removal["result"]["unlock"]["ok"] is False
    await web1.start()  # its locks kept on disk, and nobody owes it an unlock any more
    async with ZmqTransport(web1.endpoint, server_key=web1.public_key, keypair=stack.keys) as link:
        with pytest.raises(RemoteError) as still_locked:
            await link.request("set", {"key": KEY, "value": "1"})
        assert still_locked.value.code is ErrorCode.LOCKED

        again = await stack.add(web1, "web-1")

        async def released() -> bool:
            return (await link.request("version"))["locks"] == {}

        await eventually(released, timeout=20)
        assert (await link.request("set", {"key": KEY, "value": "1"}))["key"] == KEY
    written = await stack.admin.put(f"/api/instances/{again}/kdb/{KEY}", "2")
    assert written.status == 200, written.body
    assert await web1.kdb("get", KEY) == "2"
    unlocks = await eventually(lambda: audited_unlocks(stack.admin, again))
    assert [(e["user"], e["before"], e["result"]["reason"]) for e in unlocks] == [
        ("clusterd", {"cluster": int(cluster.rpartition("/")[2]), "locked": 1}, "not a member")
    ]


async def test_a_canary_release_reaches_real_members_in_turn(stack: Stack) -> None:
    web1, first = await stack.host("web-1")
    web2, second = await stack.host("web-2")
    cluster = await cluster_of(stack, first, second)
    await stack.admin.put(f"{cluster}/kdb/{KEY}", "8080")
    await stack.admin.post(f"{cluster}/draft", {"op": "set", "key": KEY, "value": "9090"})

    body = {"message": "port 9090", "canary": [first]}
    release = await stack.admin.post(f"{cluster}/draft/publish", body)
    assert release.status == 201, release.body
    assert (await web1.kdb("get", KEY), await web2.kdb("get", KEY)) == ("9090", "8080")
    # Both are where they should be: nothing is pending for either.
    assert stack.sync_state(1) == "in-sync"

    promoted = await stack.admin.post(f"{cluster}/releases/{release.body['id']}/promote")
    assert promoted.status == 200, promoted.body
    assert await web2.kdb("get", KEY) == "9090"
    rolled = await stack.admin.post(f"{cluster}/releases/{release.body['id']}/rollback")
    assert rolled.status == 200, rolled.body
    assert await web1.kdb("get", KEY) == await web2.kdb("get", KEY) == "8080"

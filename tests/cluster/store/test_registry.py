"""The registry's identity rules through the REST API of a running clusterd."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import zmq

from elektraweb.cluster.config import Config
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.store.errors import InvalidField
from elektraweb.cluster.store.instances import parse_endpoint
from support.inprocess import InProcessNetwork

from ..conftest import Register
from ..fakes import Client


def test_endpoint_spellings_of_one_address_share_an_identity() -> None:
    same = {
        parse_endpoint(text).identity
        for text in (
            "tcp://127.0.0.1:33333",
            "tcp://localhost:33333",
            "TCP://LOCALHOST",
            "localhost",
            " 127.0.0.1:33333 ",
        )
    }
    assert same == {"tcp://127.0.0.1:33333"}
    assert parse_endpoint("tcp://[0:0::1]:5").identity == "tcp://[::1]:5"
    assert parse_endpoint("tcp://Host.Example:7").address == "tcp://host.example:7"


@pytest.mark.parametrize(
    "text", ["http://host:1", "tcp://*:33333", "tcp://host:99999", "tcp://host:1/path", "tcp://"]
)
def test_endpoints_that_cannot_be_connected_to_are_refused(text: str) -> None:
    with pytest.raises(InvalidField) as refused:
        parse_endpoint(text)
    assert refused.value.field == "endpoint"


def without_last_seen(instance: dict[str, Any]) -> dict[str, Any]:
    return {**instance, "status": {**instance["status"], "last_seen": None}}


def open_links(network: InProcessNetwork) -> list[str]:
    return [link.endpoint for link in network.links if not link.closed]


async def test_add_list_get_change_remove_instance(
    admin: Client, register: Register, network: InProcessNetwork
) -> None:
    added = await register("web-1", 40001, description="front", visibility="advanced")
    # Without an instance feed the link opens on first use.
    assert added["status"]["online"] is False
    assert added["status"]["last_error"] == "not connected yet"
    assert open_links(network) == []
    assert (await admin.get(f"/api/instances/{added['id']}/kdb/user:/")).status == 200
    # The daemon's details follow its `version` answer, which may come after the first get's.
    async with asyncio.timeout(10):
        while (shown := (await admin.get(f"/api/instances/{added['id']}")).body)["status"][
            "protocol"
        ] is None:
            await asyncio.sleep(0.01)
    assert shown["status"]["online"] is True
    assert shown["status"]["hostname"] == "host"
    assert {**shown, "status": None} == {**added, "status": None}
    # The link's last_seen moves on with every answer of the daemon (heartbeats too).
    listed = (await admin.get("/api/instances")).body
    assert [without_last_seen(instance) for instance in listed] == [without_last_seen(shown)]
    assert open_links(network) == ["tcp://127.0.0.1:40001"]

    changed = await admin.put(f"/api/instances/{added['id']}", {"name": "web-one"})
    assert changed.status == 200
    assert changed.body["name"] == "web-one"
    assert (await admin.get(f"/api/instances/{added['id']}/kdb/user:/")).status == 200
    assert open_links(network) == ["tcp://127.0.0.1:40001"]  # same endpoint and key: one link

    removed = await admin.delete(f"/api/instances/{added['id']}")
    assert removed.status == 200
    assert open_links(network) == []
    missing = await admin.get(f"/api/instances/{added['id']}")
    assert missing.status == 404
    assert missing.body["error"]["code"] == "not-found"


async def test_same_public_key_is_refused_naming_the_existing_instance(
    admin: Client, register: Register, network: InProcessNetwork
) -> None:
    first = await register("web-1", 40001)
    await network.start("tcp://127.0.0.1:40002", public_key=first["public_key"])
    answer = await admin.post(
        "/api/instances",
        {"name": "copy", "endpoint": "tcp://127.0.0.1:40002", "public_key": first["public_key"]},
    )
    assert answer.status == 409
    assert answer.body["error"]["code"] == "duplicate-instance"
    assert "'web-1'" in answer.body["error"]["message"]
    assert answer.body["error"]["instance"] == first["id"]


async def test_same_endpoint_spelled_differently_is_refused(
    admin: Client, register: Register
) -> None:
    first = await register("web-1", 40001)
    answer = await admin.post(
        "/api/instances",
        {
            "name": "again",
            "endpoint": "tcp://LOCALHOST:40001",
            "public_key": zmq.curve_keypair()[0].decode(),
            "offline": True,
        },
    )
    assert answer.status == 409
    assert "'web-1'" in answer.body["error"]["message"]
    assert "tcp://127.0.0.1:40001" in answer.body["error"]["message"]
    assert len((await admin.get("/api/instances")).body) == 1
    assert first["id"] == answer.body["error"]["instance"]


async def test_changing_an_instance_onto_anothers_endpoint_is_refused(
    admin: Client, register: Register
) -> None:
    await register("web-1", 40001)
    second = await register("web-2", 40002)
    answer = await admin.put(
        f"/api/instances/{second['id']}", {"endpoint": "localhost:40001", "offline": True}
    )
    assert answer.status == 409
    assert "'web-1'" in answer.body["error"]["message"]


async def test_unreachable_instance_is_refused_unless_added_offline(admin: Client) -> None:
    body = {
        "name": "down",
        "endpoint": "tcp://127.0.0.1:40009",
        "public_key": zmq.curve_keypair()[0].decode(),
    }
    refused = await admin.post("/api/instances", body)
    assert refused.status == 502
    assert refused.body["error"]["code"] == "unreachable"
    assert (await admin.get("/api/instances")).body == []

    added = await admin.post("/api/instances", {**body, "offline": True})
    assert added.status == 201
    assert added.body["status"]["online"] is False


async def test_daemon_with_another_key_is_refused(admin: Client, network: InProcessNetwork) -> None:
    await network.start("tcp://127.0.0.1:40001")
    answer = await admin.post(
        "/api/instances",
        {
            "name": "impostor",
            "endpoint": "tcp://127.0.0.1:40001",
            "public_key": zmq.curve_keypair()[0].decode(),
        },
    )
    assert answer.status == 502
    assert "handshake" in answer.body["error"]["message"]
    assert (await admin.get("/api/instances")).body == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"public_key": "short"}, "public_key"),
        ({"visibility": "secret"}, "body.visibility"),
        ({"endpoint": "udp://x:1"}, "endpoint"),
        ({"name": 5}, "body.name"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_invalid_instance_fields_are_refused_naming_the_field(
    admin: Client, change: dict[str, object], field: str
) -> None:
    body = {
        "name": "x",
        "endpoint": "tcp://127.0.0.1:40001",
        "public_key": zmq.curve_keypair()[0].decode(),
        "offline": True,
        **change,
    }
    answer = await admin.post("/api/instances", body)
    assert answer.status == 400
    error = answer.body["error"]
    assert field in error["message"] or error.get("field") == field


async def test_an_instance_joins_at_most_one_cluster(admin: Client, register: Register) -> None:
    instance = await register("web-1", 40001)
    prod = (await admin.post("/api/clusters", {"name": "prod"})).body
    test = (await admin.post("/api/clusters", {"name": "test", "description": "staging"})).body

    joined = await admin.post(f"/api/clusters/{prod['id']}/instances", {"instance": instance["id"]})
    assert joined.status == 201
    assert joined.body["cluster"]["members"] == [instance["id"]]
    assert joined.body["instance"]["cluster"] == prod["id"]

    refused = await admin.post(
        f"/api/clusters/{test['id']}/instances", {"instance": instance["id"]}
    )
    assert refused.status == 409
    assert refused.body["error"]["code"] == "already-member"
    assert "'prod'" in refused.body["error"]["message"]
    assert refused.body["error"]["cluster"] == prod["id"]
    again = await admin.post(f"/api/clusters/{prod['id']}/instances", {"instance": instance["id"]})
    assert again.status == 409

    members = await admin.get(f"/api/clusters/{test['id']}/instances")
    assert members.body == []


async def test_deleting_a_cluster_releases_its_members(admin: Client, register: Register) -> None:
    one, two = await register("web-1", 40001), await register("web-2", 40002)
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    for member in (one, two):
        await admin.post(f"/api/clusters/{cluster['id']}/instances", {"instance": member["id"]})

    assert (await admin.delete(f"/api/clusters/{cluster['id']}")).status == 200
    assert (await admin.get(f"/api/clusters/{cluster['id']}")).status == 404
    for instance in (await admin.get("/api/instances")).body:
        assert instance["cluster"] is None
    other = (await admin.post("/api/clusters", {"name": "next"})).body
    moved = await admin.post(f"/api/clusters/{other['id']}/instances", {"instance": one["id"]})
    assert moved.status == 201


async def test_leaving_and_renaming_clusters(admin: Client, register: Register) -> None:
    instance = await register("web-1", 40001)
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    await admin.post(f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]})

    left = await admin.delete(f"/api/clusters/{cluster['id']}/instances/{instance['id']}")
    assert left.status == 200
    assert left.body["cluster"]["members"] == []
    not_member = await admin.delete(f"/api/clusters/{cluster['id']}/instances/{instance['id']}")
    assert not_member.status == 404

    await admin.post("/api/clusters", {"name": "test"})
    clash = await admin.put(f"/api/clusters/{cluster['id']}", {"name": "test"})
    assert clash.status == 409
    renamed = await admin.put(f"/api/clusters/{cluster['id']}", {"description": "live"})
    assert renamed.body == {**cluster, "description": "live"}
    assert (await admin.post("/api/clusters", {"name": "prod "})).status == 409


async def test_registry_survives_a_restart(
    config: Config, gateway: WireGateway, register: Register, admin: Client, server: Server
) -> None:
    instance = await register("web-1", 40001)
    await server.stop()
    await server.start()
    admin.base = server.url  # a new port; the session cookie is still valid
    answer = await admin.get("/api/instances")
    assert answer.status == 200
    assert [i["public_key"] for i in answer.body] == [instance["public_key"]]

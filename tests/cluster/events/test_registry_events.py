"""Registry changes and audit entries reach the event hub and `/zmq/events` subscribers:
a real clusterd in this process, changed through its REST API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import zmq

from elektraweb.cluster.config import Config
from elektraweb.cluster.events.hub import EventHub, Subscription
from elektraweb.cluster.events.registry_events import registry_events_extension
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.http.sockets import zws_extension
from elektraweb.cluster.instances.wire_gateway import WireGateway
from support.zws import open_zws

from ..conftest import ClientFactory
from ..fakes import Client
from ..http.test_sockets import subscribed

REGISTERED = (
    "id", "name", "endpoint", "public_key", "description", "visibility", "cluster", "state",
)  # fmt: skip
END = "registry/~end-of-test"


@pytest.fixture
async def server(config: Config, gateway: WireGateway, hub: EventHub) -> AsyncIterator[Server]:
    """Overrides conftest's `server`: this one publishes on `hub` and serves `/zmq/events`."""
    clusterd = Server(
        config, gateway=gateway, extensions=[zws_extension(hub), registry_events_extension(hub)]
    )
    await clusterd.start()
    yield clusterd
    await clusterd.stop()


async def published(hub: EventHub, events: Subscription) -> list[tuple[str, Any]]:
    """Everything `events` received so far: a marker published now comes after all of it."""
    hub.publish(END, {})
    received: list[tuple[str, Any]] = []
    async with asyncio.timeout(10):
        async for event in events:
            if event.topic == END:
                return received
            received.append((event.topic, event.data))
    raise AssertionError("the hub closed")


async def add_offline_instance(admin: Client, name: str, port: int) -> dict[str, Any]:
    answer = await admin.post(
        "/api/instances",
        {
            "name": name,
            "endpoint": f"tcp://127.0.0.1:{port}",
            "public_key": zmq.curve_keypair()[0].decode(),
            "offline": True,
        },
    )
    assert answer.status == 201, answer.body
    return {field: answer.body[field] for field in REGISTERED}


async def test_adding_an_instance_publishes_it_and_its_audit_entry(
    hub: EventHub, admin: Client
) -> None:
    with hub.subscribe(["registry/", "audit/"]) as events:
        instance = await add_offline_instance(admin, "web-1", 40001)
        received = await published(hub, events)
    entry = (await admin.get("/api/audit?limit=1")).body[0]
    assert entry["action"] == "instance.add"
    assert received == [
        (f"registry/instance/{instance['id']}", {"action": "added", "instance": instance}),
        (f"audit/instance/{instance['id']}", entry),
    ]


async def test_an_enrolled_instance_is_published_pending_then_accepted_or_rejected(
    hub: EventHub, admin: Client, clients: ClientFactory
) -> None:
    host = await clients()
    with hub.subscribe(["registry/"]) as events:
        for name, port in (("app-1", 40021), ("app-2", 40022)):
            token = (await admin.post("/api/enrollment-tokens", {})).body["token"]
            answer = await host.post("/api/enroll", {
                "token": token, "name": name, "endpoint": f"tcp://127.0.0.1:{port}",
                "public_key": zmq.curve_keypair()[0].decode(),
            })  # fmt: skip
            assert answer.status == 201, answer.body
        await admin.post("/api/instances/1/accept")
        await admin.post("/api/instances/2/reject")
        received = await published(hub, events)
    assert [(topic, e["action"], e["instance"]["state"]) for topic, e in received] == [
        ("registry/instance/1", "added", "pending"),
        ("registry/instance/2", "added", "pending"),
        ("registry/instance/1", "accepted", "accepted"),
        ("registry/instance/2", "removed", "pending"),
    ]


async def test_joining_leaving_and_removals_are_published_for_clusters_and_instances(
    hub: EventHub, admin: Client
) -> None:
    with hub.subscribe(["registry/"]) as events:
        web1 = (await add_offline_instance(admin, "web-1", 40001))["id"]
        web2 = (await add_offline_instance(admin, "web-2", 40011))["id"]
        cluster = (await admin.post("/api/clusters", {"name": "web"})).body["id"]
        await admin.post(f"/api/clusters/{cluster}/instances", {"instance": web1})
        await admin.put(f"/api/clusters/{cluster}", {"description": "front ends"})
        await admin.delete(f"/api/instances/{web1}")
        await admin.post(f"/api/clusters/{cluster}/instances", {"instance": web2})
        await admin.delete(f"/api/clusters/{cluster}")
        received = await published(hub, events)

    def summary(topic: str, event: dict[str, Any]) -> tuple[Any, ...]:
        """The action, and what the registry says of membership after it."""
        subject = event.get("instance") or event["cluster"]
        state = subject["members"] if "members" in subject else subject["cluster"]
        return topic, event["action"], state, event.get("membership")

    joined1 = {"cluster": cluster, "instance": web1}
    joined2 = {"cluster": cluster, "instance": web2}
    assert [summary(topic, event) for topic, event in received] == [
        (f"registry/instance/{web1}", "added", None, None),
        (f"registry/instance/{web2}", "added", None, None),
        (f"registry/cluster/{cluster}", "added", [], None),
        (f"registry/cluster/{cluster}", "joined", [web1], joined1),
        (f"registry/instance/{web1}", "joined", cluster, joined1),
        (f"registry/cluster/{cluster}", "changed", [web1], None),
        # Removing a member: the instance as it was, and the cluster without it.
        (f"registry/instance/{web1}", "removed", cluster, None),
        (f"registry/cluster/{cluster}", "left", [], joined1),
        (f"registry/cluster/{cluster}", "joined", [web2], joined2),
        (f"registry/instance/{web2}", "joined", cluster, joined2),
        # Deleting a cluster: the cluster as it was, and its former member released.
        (f"registry/cluster/{cluster}", "removed", [web2], None),
        (f"registry/instance/{web2}", "left", None, joined2),
    ]
    changed = received[5][1]["cluster"]
    assert (changed["name"], changed["description"]) == ("web", "front ends")


async def test_a_viewer_receives_audit_and_registry_events_without_secrets(
    hub: EventHub, server: Server, admin: Client, clients: ClientFactory
) -> None:
    viewer = await clients("viewer")
    zws = await open_zws(viewer.session, server.url.replace("http", "ws", 1) + "/zmq/events")
    try:
        await subscribed(zws, hub, "audit/")
        await subscribed(zws, hub, "registry/")
        password = "carol-secret-password"
        answer = await admin.post(
            "/api/users", {"name": "carol", "password": password, "role": "editor"}
        )
        assert answer.status == 201, answer.body
        answer = await admin.post("/api/tokens", {"name": "deploy"})
        assert answer.status == 201, answer.body
        token_id, secret = answer.body["id"], answer.body["token"]
        instance = await add_offline_instance(admin, "web-1", 40001)

        received = [await zws.receive() for _ in range(4)]
    finally:
        await zws.ws.close()
    assert [topic.decode() for topic, _ in received] == [
        "audit/user/carol",
        f"audit/token/{token_id}",
        f"registry/instance/{instance['id']}",
        f"audit/instance/{instance['id']}",
    ]
    payloads = [payload for _, payload in received]
    assert json.loads(payloads[0])["after"] == {"name": "carol", "role": "editor"}
    assert not any(password.encode() in payload for payload in payloads)
    assert not any(secret.encode() in payload for payload in payloads)

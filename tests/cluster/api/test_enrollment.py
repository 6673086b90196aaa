"""Enrollment over the API: one-time tokens, `POST /api/enroll` with the registry's rules,
pending instances that clusterd leaves alone until an admin accepts or rejects them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from elektraweb.cluster.http.server import Server
from elektraweb.cluster.instances.wire_gateway import WireGateway
from support.inprocess import InProcessNetwork

from ..conftest import ClientFactory, Register
from ..fakes import Client


@pytest.fixture
async def anonymous(clients: ClientFactory) -> Client:
    """The host enrolling: no session, no API token, only its enrollment token."""
    return await clients()


async def _token(admin: Client, **fields: Any) -> dict[str, Any]:
    answer = await admin.post("/api/enrollment-tokens", fields)
    assert answer.status == 201, answer.body
    assert answer.body["token"].startswith("ewe_")
    return dict(answer.body)


async def _host(network: InProcessNetwork, name: str, port: int) -> dict[str, str]:
    """Start an elektrad at 127.0.0.1:`port`; what it sends to enroll as `name`."""
    endpoint = f"tcp://127.0.0.1:{port}"
    daemon = await network.start(endpoint)
    return {"name": name, "endpoint": endpoint, "public_key": daemon.public_key}


async def _enroll(
    client: Client, network: InProcessNetwork, token: str, name: str, port: int
) -> tuple[int, Any]:
    """Start an elektrad at 127.0.0.1:`port` and enroll it as `name`."""
    host = await _host(network, name, port)
    answer = await client.post("/api/enroll", {"token": token, **host})
    return answer.status, answer.body


async def test_an_enrolled_host_waits_untouched_until_an_admin_accepts_it(
    admin: Client, anonymous: Client, network: InProcessNetwork, gateway: WireGateway
) -> None:
    token = await _token(admin)
    status, enrolled = await _enroll(anonymous, network, token["token"], "app-1", 40011)
    assert status == 201, enrolled
    assert enrolled["state"] == "pending" and enrolled["cluster"] is None
    assert enrolled["clusterd_key"] == gateway.public_key
    path = f"/api/instances/{enrolled['instance']}"

    listed = (await admin.get("/api/instances")).body
    assert [(i["name"], i["state"]) for i in listed] == [("app-1", "pending")]
    for method, route in (("GET", "/version"), ("GET", "/kdb/user:/app"), ("GET", "/mounts")):
        refused = await admin.request(method, path + route)
        assert refused.status == 409, (route, refused.body)
        assert refused.body["error"]["code"] == "instance-pending"
    cluster = (await admin.post("/api/clusters", {"name": "shop"})).body
    joined = await admin.post(f"/api/clusters/{cluster['id']}/instances", {"instance": 1})
    assert (joined.status, joined.body["error"]["code"]) == (409, "instance-pending")

    renamed = await admin.put(path, {"name": "app-one", "description": "checkout"})
    assert (renamed.status, renamed.body["state"]) == (200, "pending")
    moved = await admin.put(path, {"endpoint": "tcp://127.0.0.1:40099"})
    assert (moved.status, moved.body["error"]["code"]) == (409, "instance-pending")

    accepted = await admin.post(path + "/accept")
    assert (accepted.status, accepted.body["state"]) == (200, "accepted")
    version = await admin.get(path + "/version")
    assert version.status == 200 and version.body["instance"] == listed[0]["public_key"]
    again = await admin.post(path + "/accept")
    assert (again.status, again.body["error"]["code"]) == (409, "not-pending")
    rejected = await admin.post(path + "/reject")
    assert (rejected.status, rejected.body["error"]["code"]) == (409, "not-pending")

    actions = [entry["action"] for entry in (await admin.get("/api/audit")).body]
    assert {"enrollment.token", "instance.add", "instance.accept"} <= set(actions)


async def test_a_rejected_host_leaves_the_registry_and_may_enroll_again(
    admin: Client, anonymous: Client, network: InProcessNetwork
) -> None:
    status, enrolled = await _enroll(
        anonymous, network, (await _token(admin))["token"], "app-1", 40012
    )
    assert status == 201
    rejected = await admin.post(f"/api/instances/{enrolled['instance']}/reject")
    assert (rejected.status, rejected.body["state"]) == (200, "pending")
    assert (await admin.get("/api/instances")).body == []
    gone = await admin.post(f"/api/instances/{enrolled['instance']}/accept")
    assert gone.status == 404


async def test_a_token_is_spent_by_one_enrollment(
    admin: Client, anonymous: Client, network: InProcessNetwork
) -> None:
    secret = (await _token(admin))["token"]
    status, _ = await _enroll(anonymous, network, secret, "app-1", 40013)
    assert status == 201
    status, refused = await _enroll(anonymous, network, secret, "app-2", 40014)
    assert status == 401
    assert refused["error"]["code"] == "token-used"
    assert "already used" in refused["error"]["message"]
    names = [i["name"] for i in (await admin.get("/api/instances")).body]
    assert names == ["app-1"]


async def test_two_hosts_with_one_token_at_once_get_in_once(
    admin: Client, anonymous: Client, network: InProcessNetwork
) -> None:
    secret = (await _token(admin))["token"]
    hosts = [await _host(network, f"app-{n}", 40020 + n) for n in range(4)]
    answers = await asyncio.gather(
        *(anonymous.post("/api/enroll", {"token": secret, **host}) for host in hosts)
    )
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [201, 401, 401, 401]
    assert len((await admin.get("/api/instances")).body) == 1


async def test_an_expired_or_unknown_token_is_refused_and_registers_nothing(
    admin: Client, anonymous: Client, network: InProcessNetwork, server: Server
) -> None:
    token = await _token(admin, expires_in=60)
    assert server.services is not None
    # Time passing: the token's expiry moves into the past.
    server.services.database.connection.execute(
        "UPDATE enrollment_tokens SET expires = ? WHERE id = ?", (time.time() - 1, token["id"])
    )
    status, refused = await _enroll(anonymous, network, token["token"], "app-1", 40015)
    assert status == 401
    assert refused["error"]["code"] == "token-expired"
    assert "expired at" in refused["error"]["message"]
    status, refused = await _enroll(anonymous, network, "ewe_not-a-token", "app-1", 40016)
    assert (status, refused["error"]["code"]) == (401, "token-unknown")
    assert (await admin.get("/api/instances")).body == []
    listed = (await admin.get("/api/enrollment-tokens")).body
    assert [each["used"] for each in listed] == [None]
    assert "token" not in listed[0]


async def test_a_duplicate_host_is_refused_and_the_token_stays_unspent(
    admin: Client, anonymous: Client, network: InProcessNetwork, register: Register
) -> None:
    web = await register("web-1", 40017)
    secret = (await _token(admin))["token"]
    new = await _host(network, "app-1", 40018)
    for clash in ({"public_key": web["public_key"]}, {"endpoint": "tcp://localhost:40017"}):
        refused = await anonymous.post("/api/enroll", {"token": secret, **new, **clash})
        assert (refused.status, refused.body["error"]["code"]) == (409, "duplicate-instance")
        assert refused.body["error"]["instance"] == web["id"]
    # Neither refusal spent the token: the new host enrolls with it.
    enrolled = await anonymous.post("/api/enroll", {"token": secret, **new})
    assert enrolled.status == 201, enrolled.body


async def test_a_token_for_a_cluster_accepts_the_host_into_it_and_only_it(
    admin: Client, anonymous: Client, network: InProcessNetwork
) -> None:
    shop = (await admin.post("/api/clusters", {"name": "shop"})).body
    other = (await admin.post("/api/clusters", {"name": "other"})).body
    token = await _token(admin, cluster=shop["id"])
    assert token["cluster"] == shop["id"]
    status, enrolled = await _enroll(anonymous, network, token["token"], "app-1", 40030)
    assert status == 201
    assert (enrolled["state"], enrolled["cluster"]) == ("accepted", shop["id"])
    assert (await admin.get(f"/api/clusters/{shop['id']}")).body["members"] == [
        enrolled["instance"]
    ]
    moved = await admin.post(
        f"/api/clusters/{other['id']}/instances", {"instance": enrolled["instance"]}
    )
    assert (moved.status, moved.body["error"]["code"]) == (409, "already-member")
    version = await admin.get(f"/api/instances/{enrolled['instance']}/version")
    assert version.status == 200


async def test_a_token_for_a_missing_cluster_or_an_unusable_lifetime_is_refused(
    admin: Client,
) -> None:
    missing = await admin.post("/api/enrollment-tokens", {"cluster": 99})
    assert missing.status == 404 and "cluster with id 99" in missing.body["error"]["message"]
    for seconds in (0, 8 * 24 * 3600):
        bad = await admin.post("/api/enrollment-tokens", {"expires_in": seconds})
        assert bad.status == 400, bad.body
    assert (await admin.get("/api/enrollment-tokens")).body == []


async def test_a_revoked_token_enrolls_nobody(
    admin: Client, anonymous: Client, network: InProcessNetwork
) -> None:
    token = await _token(admin)
    revoked = await admin.delete(f"/api/enrollment-tokens/{token['id']}")
    assert revoked.status == 200 and revoked.body["id"] == token["id"]
    status, refused = await _enroll(anonymous, network, token["token"], "app-1", 40031)
    assert (status, refused["error"]["code"]) == (401, "token-unknown")

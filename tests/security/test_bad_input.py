"""Issue 8 item 8: bad input gets a 400 that names the problem (or, over ZWS, a 1007 close),
never a 500 or a dropped connection; nothing of it is applied, audited or published."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import WSCloseCode

from elektraweb.wire.client import ClientOptions, ZmqTransport
from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.keys import ensure_keypair
from security.conftest import Site
from support.processes import Api
from support.zws import ZwsClient, open_zws

KEY = "user:/app/name"


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


async def raw(api: Api, method: str, path: str, data: bytes, content_type: str) -> tuple[int, Any]:
    async with api.session.request(
        method, path, data=data, headers={"Content-Type": content_type}
    ) as response:
        return response.status, await response.json()


async def subscribe_audit(api: Api) -> ZwsClient:
    events = await open_zws(api.session, "/zmq/events")
    await events.send(b"\x01audit/")
    return events


async def next_audit_key(events: ZwsClient) -> str:
    topic, payload = await events.receive()
    assert topic.startswith(b"audit/")
    return str(json.loads(payload)["key"])


async def write(site: Site, key: str, value: str) -> None:
    path = f"/api/clusters/{site.cluster}/kdb/{quote(key, safe='')}"
    status, body = await site.admin("PUT", path, value)
    assert status == 200, body


BAD_BODIES = {  # case: (body, Content-Type, what the error message must name)
    "not UTF-8": (b'"\xff\xfe"', "application/json", "not UTF-8"),
    "utf-16 JSON": ('"x"'.encode("utf-16"), "application/json; charset=utf-16", "utf-16"),
    "utf-16 text": ("x".encode("utf-16"), "text/plain; charset=UTF-16", "UTF-16"),
    "broken UTF-8 text": (b"\xc3(", "text/plain", "not UTF-8"),
    "1000 deep": (deep(1000), "application/json", "deeper than 64"),
    "65 deep": (deep(65), "application/json", "deeper than 64"),
    "50000 deep": (deep(50_000), "application/json", "deeper than 64"),
    "NaN": (b"NaN", "application/json", "NaN"),
    "lone surrogate": (b'"a\\ud800b"', "application/json", "U+D800"),
}


async def test_rest_refuses_bad_bodies_with_400_naming_the_problem(site: Site) -> None:
    for case, (data, content_type, problem) in BAD_BODIES.items():
        for kind, target in (("clusters", site.cluster), ("instances", site.instance)):
            path = f"/api/{kind}/{target}/kdb/{quote(KEY, safe='')}"
            status, refused = await raw(site.admin, "PUT", path, data, content_type)
            assert status == 400, (case, refused)
            assert refused["error"]["code"] == "bad-request", case
            assert problem in refused["error"]["message"], (case, refused)
    status, found = await site.admin("GET", f"/api/instances/{site.instance}/kdb/{quote(KEY)}")
    assert (status, found["exists"]) == (200, False)


async def test_a_lone_surrogate_is_named_and_neither_applied_nor_audited(site: Site) -> None:
    events = await subscribe_audit(site.admin)
    await write(site, "user:/app/first", "1")  # its event proves the subscription is live
    assert await next_audit_key(events) == "user:/app/first"
    status, before = await site.admin("GET", "/api/audit")
    assert status == 200

    body = {"keys": [{"name": f"{KEY}/ok", "value": "fine"}, {"name": KEY, "value": "x\ud800"}]}
    path = f"/api/clusters/{site.cluster}/kdbAll/{quote('user:/app', safe='')}"
    status, refused = await raw(
        site.admin, "PUT", path, json.dumps(body).encode(), "application/json"
    )
    assert status == 400
    assert "body.keys[1].value" in refused["error"]["message"]

    await write(site, "user:/app/second", "2")
    # The next audit event is the second write's: the refused request published none.
    assert await next_audit_key(events) == "user:/app/second"
    status, after = await site.admin("GET", "/api/audit")
    assert [entry["key"] for entry in after[: len(after) - len(before)]] == ["user:/app/second"]
    status, listing = await site.admin(
        "GET", f"/api/instances/{site.instance}/kdbLs/{quote('user:/app', safe='')}"
    )
    assert status == 200 and listing["keys"] == ["user:/app/first", "user:/app/second"]
    await events.ws.close()


async def test_zws_answers_400_or_closes_1007_and_keeps_serving(site: Site) -> None:
    router = await open_zws(site.admin.session, "/zmq")
    path = f"/api/clusters/{site.cluster}/kdb/{quote(KEY, safe='')}"
    surrogate = await router.request(b"1", {"method": "PUT", "path": path, "body": "\ud800"})
    assert surrogate["status"] == 400
    assert "U+D800" in surrogate["body"]["error"]["message"]
    in_path = await router.request(b"2", {"method": "GET", "path": "/api/\ud800"})
    assert in_path["status"] == 400
    nan = b'{"method":"PUT","path":"' + path.encode() + b'","body":NaN}'
    await router.send(b"3", nan)
    assert (await router.closed())[0] == WSCloseCode.INVALID_TEXT

    for request in (b"\xff\xfe{}", deep(50_000), deep(1000)):
        router = await open_zws(site.admin.session, "/zmq")
        await router.send(b"4", request)
        code, reason = await router.closed()
        assert code == WSCloseCode.INVALID_TEXT, reason
        assert "UTF-8" in reason or "deeper than 64" in reason

    router = await open_zws(site.admin.session, "/zmq")
    answer = await router.request(b"5", {"method": "GET", "path": "/api/instances"})
    assert answer["status"] == 200
    await router.ws.close()


async def test_elektrad_refuses_lone_surrogates_over_zeromq_by_name(site: Site) -> None:
    # clusterd's own keypair: the one client elektrad lets in.
    keypair = ensure_keypair(site.clusterd.state)
    options = ClientOptions(timeout=5.0, retries=0, ping_interval=None)
    link = ZmqTransport(
        site.host.endpoint, server_key=site.host.public_key, keypair=keypair, options=options
    )
    async with link:
        attacks: list[tuple[str, dict[str, Any], str]] = [
            ("set", {"key": KEY, "value": "x\ud800"}, "argument 'value'"),
            ("meta-set", {"key": KEY, "name": "description", "value": "\udfff"}, "'value'"),
            ("set-all", {"key": "user:/app", "keys": [{"name": KEY, "value": "\ud800"}]},
             "keys[0].value"),
            ("import", {"key": "user:/app", "format": "ini", "data": "a=\ud800"}, "'data'"),
        ]  # fmt: skip
        for op, args, where in attacks:
            with pytest.raises(RemoteError) as refused:
                await link.request(op, args)
            assert refused.value.code is ErrorCode.BAD_REQUEST, (op, refused.value)
            assert where in refused.value.message and "lone surrogate" in refused.value.message
        assert (await link.request("get", {"key": KEY}))["exists"] is False

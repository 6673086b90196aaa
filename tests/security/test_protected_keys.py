"""Issue 8 item 1: no kdb write route reaches the mount table (or anything else the KDB
interprets). Each attack goes through real daemons and must answer 403 `protected` and change
nothing: not the mount table, not the file the attacker aimed at."""

from __future__ import annotations

from typing import Any

import pytest

from elektraweb.wire import RemoteError, ZmqTransport
from elektraweb.wire.errors import ErrorCode
from elektraweb.wire.keys import ensure_keypair
from support.zws import open_zws

from .stack import SECRET_TEXT, Stack

ENTRY = "system:/elektra/mountpoints/system:\\/stolen"


def mount_entry(path: str) -> list[dict[str, Any]]:
    """What `kdb mount PATH system:/stolen ini` would write into the mount table."""
    return [
        {"name": ENTRY, "value": ""},
        {"name": ENTRY + "/path", "value": path},
        {"name": ENTRY + "/format", "value": "ini"},
    ]


def attacks(secret: str) -> list[tuple[str, str, Any]]:
    """Every kdb write route, aimed at what the KDB interprets; paths below a target prefix."""
    ini = f"[stolen]\npath = {secret}\nformat = ini\n"
    return [
        ("PUT", "kdbAll/system:/elektra/mountpoints", {"keys": mount_entry(secret)}),
        ("PUT", "kdb/system:/elektra/mountpoints/x", "anything"),
        ("DELETE", "kdb/system:/elektra", None),
        ("DELETE", "kdb/system:/", None),  # the subtree holds the mount table
        ("POST", "kdbMv/system:/app", "system:/elektra/mountpoints/x"),
        ("POST", "kdbCp/system:/app", "system:/elektra/mountpoints/x"),
        ("POST", "kdbMeta/system:/elektra/mountpoints", {"key": "description", "value": "x"}),
        ("POST", "kdbMetaBulk/system:/elektra", {"meta": [{"key": "x", "value": "y"}]}),
        ("POST", "kdbImport/system:/elektra/mountpoints?format=ini&strategy=replace", ini),
        ("PUT", "kdb/user:/elektra/mountpoints/x", "user:/elektra is reserved too"),
        ("POST", "kdbMeta/spec:/app", {"key": "mountpoint", "value": secret}),
    ]


async def mounted(stack: Stack) -> str:
    return await stack.host.kdb("mount")


async def test_every_instance_write_route_refuses_the_kdbs_own_keys(stack: Stack) -> None:
    await stack.host.kdb("set", "system:/app/port", "8080")
    await stack.host.kdb("mount", str(stack.allowed / "local.ini"), "system:/local", "ini")
    before = await mounted(stack)
    instance = f"/api/instances/{stack.instance}"
    for method, route, body in attacks(str(stack.secret)):
        status, answer = await stack.editor(method, f"{instance}/{route}", body)
        assert (status, answer["error"]["code"]) == (403, "protected"), (method, route, answer)
        assert "protected" in answer["error"]["message"] and answer["error"]["key"]
    assert await mounted(stack) == before
    assert "/stolen" not in await stack.host.kdb("ls", "system:/elektra")
    assert await stack.host.kdb("get", "system:/app/port") == "8080"  # rm -r system:/ undone
    assert stack.secret.read_text() == SECRET_TEXT
    # A viewer cannot read the secret: it was never mounted.
    status, answer = await stack.viewer("GET", f"{instance}/kdb/system:/stolen")
    assert status == 200 and answer["exists"] is False
    status, log = await stack.admin("GET", f"/api/audit?instance={stack.instance}")
    refused = [entry for entry in log if entry["action"] == "set-all"]
    assert refused and refused[0]["result"]["error"]["code"] == "protected"


async def test_cluster_writes_are_refused_as_a_whole_before_any_member(stack: Stack) -> None:
    status, cluster = await stack.admin("POST", "/api/clusters", {"name": "prod"})
    assert status == 201, cluster
    path = f"/api/clusters/{cluster['id']}"
    status, body = await stack.admin("POST", f"{path}/instances", {"instance": stack.instance})
    assert status == 201, body
    before = await mounted(stack)
    mixed = [{"name": "system:/app/harmless", "value": "1"}, *mount_entry(str(stack.secret))]
    status, answer = await stack.editor("PUT", f"{path}/kdbAll/system:/", {"keys": mixed})
    assert (status, answer["error"]["code"]) == (403, "protected"), answer
    assert answer["error"]["key"].startswith("system:/elektra/mountpoints/")
    for method, route, body in attacks(str(stack.secret)):
        if route in ("kdb/system:/", "kdb/system:/elektra"):
            continue  # the cluster sets no key there: 404, nothing to protect
        if route.startswith(("kdbMv/", "kdbCp/")):
            await stack.editor("PUT", f"{path}/kdb/system:/app", "1")
        status, answer = await stack.editor(method, f"{path}/{route}", body)
        assert (status, answer["error"]["code"]) == (403, "protected"), (method, route, answer)
    # The harmless key of the refused write reached neither the desired state nor the member.
    status, desired = await stack.viewer("GET", f"{path}/kdb/system:/app/harmless")
    assert status == 200 and desired["exists"] is False
    status, member = await stack.viewer(
        "GET", f"/api/instances/{stack.instance}/kdb/system:/app/harmless"
    )
    assert status == 200 and member["exists"] is False
    assert await mounted(stack) == before


async def test_websocket_writes_are_refused_like_rest(stack: Stack) -> None:
    status, token = await stack.editor("POST", "/api/tokens", {"name": "script"})
    assert status == 201, token
    url = stack.clusterd.url.replace("http", "ws", 1) + f"/zmq?token={token['token']}"
    zws = await open_zws(stack.editor.session, url)
    try:
        reply = await zws.request(b"1", {
            "method": "PUT",
            "path": f"/api/instances/{stack.instance}/kdbAll/system:/elektra/mountpoints",
            "body": {"keys": mount_entry(str(stack.secret))},
        })  # fmt: skip
    finally:
        await zws.ws.close()
    assert reply["status"] == 403 and reply["body"]["error"]["code"] == "protected", reply
    assert "/stolen" not in await stack.host.kdb("ls", "system:/elektra")


async def test_elektrad_refuses_even_its_allowed_client(stack: Stack) -> None:
    """clusterd's own key (the one elektrad allows) talking to elektrad directly: elektrad
    enforces the rules itself, so a compromised or older clusterd gets no further."""
    keys = ensure_keypair(stack.clusterd.state)
    async with ZmqTransport(
        stack.host.endpoint, server_key=stack.host.public_key, keypair=keys
    ) as link:
        attempts: list[tuple[str, dict[str, Any]]] = [
            ("set-all", {"key": "system:/elektra", "keys": mount_entry(str(stack.secret))}),
            ("set", {"key": ENTRY + "/path", "value": str(stack.secret)}),
            ("import", {"key": "system:/elektra/mountpoints", "format": "ini",
                        "data": f"[x]\npath = {stack.secret}\n"}),
            ("meta-set", {"key": "spec:/app", "name": "mountpoint", "value": "x.ini"}),
        ]  # fmt: skip
        for op, args in attempts:
            with pytest.raises(RemoteError) as refused:
                await link.request(op, args)
            assert refused.value.code is ErrorCode.PROTECTED, (op, refused.value)
        with pytest.raises(RemoteError) as outside:
            await link.request("mount", {"mountpoint": "system:/x", "path": str(stack.secret)})
        assert outside.value.code is ErrorCode.FORBIDDEN
        assert str(stack.secret) in outside.value.message
    assert "/stolen" not in await stack.host.kdb("ls", "system:/elektra")
    # The host's administrator still mounts whatever they like, locally.
    await stack.host.kdb("mount", str(stack.secret), "system:/secret", "ini")
    assert await stack.host.kdb("get", "system:/secret/root/password") == "hunter2"

"""Enrollment is the admin's: editors and viewers can neither create enrollment tokens nor
accept or reject a waiting host, over REST or ZWS, and their refusal changes and records
nothing; an enrollment token opens nothing but `POST /api/enroll`, and no other secret opens
that (real clusterd and elektrad processes)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from support.processes import Api, EnrollingElektrad
from support.zws import open_zws

from .stack import Stack


async def test_only_an_admin_manages_tokens_and_decides_on_waiting_hosts(
    stack: Stack, tmp_path: Path
) -> None:
    admin = stack.admin
    status, token = await admin("POST", "/api/enrollment-tokens", {})
    assert status == 201
    host = EnrollingElektrad(tmp_path / "app", stack.clusterd.url, token["token"], "app")
    try:
        await host.start()
        status, instances = await admin("GET", "/api/instances")
        [pending] = [each for each in instances if each["state"] == "pending"]
        _, audit_before = await admin("GET", "/api/audit")

        attempts: list[tuple[str, str, object]] = [
            ("POST", "/api/enrollment-tokens", {}),
            ("GET", "/api/enrollment-tokens", None),
            ("DELETE", f"/api/enrollment-tokens/{token['id']}", None),
            ("POST", f"/api/instances/{pending['id']}/accept", None),
            ("POST", f"/api/instances/{pending['id']}/reject", None),
        ]
        for api in (stack.editor, stack.viewer):
            for method, path, body in attempts:
                status, answer = await api(method, path, body)
                assert (status, answer["error"]["code"]) == (403, "forbidden"), (method, path)
        async with aiohttp.ClientSession(cookie_jar=stack.editor.session.cookie_jar) as session:
            zws = await open_zws(session, stack.clusterd.url.replace("http", "ws") + "/zmq")
            for method, path, body in attempts:
                reply = await zws.request(b"1", {"method": method, "path": path, "body": body})
                assert reply["status"] == 403, (method, path, reply)
            await zws.ws.close()
        anonymous = Api(stack.clusterd.url)
        try:
            for method, path, body in attempts:
                status, _ = await anonymous(method, path, body)
                assert status == 401, (method, path)
        finally:
            await anonymous.close()

        status, still = await admin("GET", f"/api/instances/{pending['id']}")
        assert (status, still["state"]) == (200, "pending")
        _, audit_after = await admin("GET", "/api/audit")
        assert audit_after == audit_before
    finally:
        await host.stop()


async def test_an_enrollment_token_opens_only_enrollment(stack: Stack) -> None:
    status, token = await stack.admin("POST", "/api/enrollment-tokens", {})
    assert status == 201
    async with aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {token['token']}"}
    ) as bearer:
        for path in ("/api/instances", "/api/enrollment-tokens", "/api/me"):
            async with bearer.get(stack.clusterd.url + path) as answer:
                assert answer.status == 401, path

    # An admin's API token is no enrollment token either.
    status, api_token = await stack.admin("POST", "/api/tokens", {"name": "script"})
    assert status == 201
    anonymous = Api(stack.clusterd.url)
    try:
        status, refused = await anonymous(
            "POST",
            "/api/enroll",
            {
                "token": api_token["token"],
                "name": "sneaky",
                "endpoint": "tcp://127.0.0.1:1",
                "public_key": stack.host.public_key,
            },
        )
    finally:
        await anonymous.close()
    assert (status, refused["error"]["code"]) == (401, "token-unknown")
    status, instances = await stack.admin("GET", "/api/instances")
    assert [instance["name"] for instance in instances] == [stack.host.name]

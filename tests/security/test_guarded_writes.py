"""Issue 12: compare and explain are reads (viewer), copying across and critical writes are
writes (editor), the reason is enforced by the server whichever transport carries the write,
and a cluster value its members' specification refuses reaches no member. Real daemons."""

from __future__ import annotations

from typing import Any

from support.zws import open_zws

from .conftest import Site

CRITICAL = "system:/app/secret"


async def _specified(site: Site) -> None:
    await site.host.kdb("meta-set", "spec:/app/secret", "critical", "1")
    await site.host.kdb("meta-set", "spec:/app/port", "check/type", "short")
    await site.host.kdb("set", "system:/app/port", "8080")


async def test_viewers_compare_and_explain_but_cannot_copy_across(site: Site) -> None:
    await _specified(site)
    instance, cluster = site.instance, site.cluster
    query = f"a=instance:{instance}&b=cluster:{cluster}&key=system:/app"
    status, compared = await site.viewer("GET", f"/api/compare?{query}")
    assert status == 200, compared
    assert [entry["name"] for entry in compared["only_a"]] == ["system:/app/port"]
    status, explained = await site.viewer(
        "GET", f"/api/instances/{instance}/kdbExplain/system:/app/port"
    )
    assert status == 200 and explained["spec"]["meta"]["check/type"] == "short"

    status, refused = await site.viewer(
        "PUT", f"/api/clusters/{cluster}/kdb/system:/app/port?reason=copy", "8080"
    )
    assert status == 403, refused
    _, state = await site.admin("GET", f"/api/clusters/{cluster}/kdb/system:/app/port")
    assert state["exists"] is False


async def test_a_critical_write_without_a_reason_is_refused_over_websocket_too(
    site: Site,
) -> None:
    await _specified(site)
    status, token = await site.admin("POST", "/api/tokens", {"name": "script"})
    assert status == 201, token
    url = site.clusterd.url.replace("http", "ws", 1) + f"/zmq?token={token['token']}"
    zws = await open_zws(site.admin.session, url)
    path = f"/api/clusters/{site.cluster}/kdb/{CRITICAL}"
    try:
        refused = await zws.request(b"1", {"method": "PUT", "path": path, "body": "x"})
        given = await zws.request(
            b"2", {"method": "PUT", "path": f"{path}?reason=new%20key", "body": "x"}
        )
        compared: dict[str, Any] = await zws.request(b"3", {
            "method": "GET",
            "path": f"/api/compare?a=instance:{site.instance}&b=cluster:{site.cluster}"
            "&key=system:/app",
        })  # fmt: skip
    finally:
        await zws.ws.close()
    assert refused["status"] == 400, refused
    assert refused["body"]["error"]["code"] == "reason-required"
    assert refused["body"]["error"]["key"] == CRITICAL
    assert given["status"] == 200, given
    assert "x" in await site.host.kdb("get", CRITICAL)
    assert compared["status"] == 200
    assert [entry["name"] for entry in compared["body"]["only_a"]] == ["system:/app/port"]
    assert compared["body"]["same"] == 1, compared["body"]["different"]  # the critical key


async def test_a_value_the_members_spec_refuses_reaches_no_member(site: Site) -> None:
    await _specified(site)
    status, refused = await site.admin(
        "PUT", f"/api/clusters/{site.cluster}/kdb/system:/app/port", "99999"
    )
    assert status == 400, refused
    assert refused["error"]["key"] == "system:/app/port"
    assert refused["error"]["value"] == "99999"
    assert (await site.host.kdb("get", "system:/app/port")).strip() == "8080"
    status, entries = await site.admin("GET", f"/api/audit?cluster={site.cluster}")
    assert status == 200
    assert all(entry["key"] != "system:/app/port" for entry in entries)


async def test_a_subtree_write_over_a_critical_key_needs_a_reason_over_websocket(
    site: Site,
) -> None:
    await _specified(site)
    path = f"/api/clusters/{site.cluster}"
    status, _ = await site.admin("PUT", f"{path}/kdb/{CRITICAL}?reason=initial", "s3cret")
    assert status == 200
    status, token = await site.admin("POST", "/api/tokens", {"name": "script"})
    assert status == 201, token
    url = site.clusterd.url.replace("http", "ws", 1) + f"/zmq?token={token['token']}"
    zws = await open_zws(site.admin.session, url)
    try:
        removed = await zws.request(b"1", {"method": "DELETE", "path": f"{path}/kdb/system:/app"})
        moved = await zws.request(
            b"2", {"method": "POST", "path": f"{path}/kdbMv/system:/app", "body": "system:/old"}
        )
        kept = await site.host.kdb("get", CRITICAL)
        given = await zws.request(
            b"3", {"method": "DELETE", "path": f"{path}/kdb/system:/app?reason=retired"}
        )
    finally:
        await zws.ws.close()
    for refused in (removed, moved):
        assert refused["status"] == 400, refused
        assert refused["body"]["error"]["code"] == "reason-required"
        assert refused["body"]["error"]["key"] == CRITICAL
    assert "s3cret" in kept
    assert given["status"] == 200, given
    assert CRITICAL not in await site.host.kdb("ls", "system:/app")
    status, entries = await site.admin("GET", f"/api/audit?cluster={site.cluster}&key=system:/app")
    assert [(entry["action"], entry["result"]["args"].get("reason")) for entry in entries] == [
        ("rm", "retired"),
        ("set", "initial"),
    ]


async def test_an_undo_of_a_critical_change_needs_a_reason_over_websocket_and_rest(
    site: Site,
) -> None:
    """The instance's elektrad refuses the revert in its transaction until the reason given
    to clusterd reaches it; the cluster's revert is refused by clusterd before its fan-out."""
    await _specified(site)
    instance = f"/api/instances/{site.instance}/kdb/{CRITICAL}"
    status, _ = await site.admin("PUT", f"{instance}?reason=new%20key", "s3cret")
    assert status == 200
    status, undo = await site.admin("GET", "/api/history/undo")
    assert status == 200 and undo["undo"]["key"] == CRITICAL, undo
    revert = f"/api/history/{undo['undo']['id']}/revert"
    status, token = await site.admin("POST", "/api/tokens", {"name": "script"})
    assert status == 201, token
    url = site.clusterd.url.replace("http", "ws", 1) + f"/zmq?token={token['token']}"
    zws = await open_zws(site.admin.session, url)
    try:
        refused = await zws.request(b"1", {"method": "POST", "path": revert})
    finally:
        await zws.ws.close()
    assert refused["status"] == 400, refused
    assert refused["body"]["error"]["code"] == "reason-required"
    assert refused["body"]["error"]["key"] == CRITICAL
    assert "s3cret" in await site.host.kdb("get", CRITICAL)
    status, reverted = await site.admin("POST", f"{revert}?reason=created%20by%20mistake")
    assert status == 200, reverted
    assert CRITICAL not in await site.host.kdb("ls", "system:/app")
    status, entries = await site.admin("GET", f"/api/history?instance={site.instance}&limit=1")
    assert (entries[0]["action"], entries[0]["args"]["reason"]) == (
        "revert", "created by mistake",
    )  # fmt: skip

    cluster = f"/api/clusters/{site.cluster}"
    status, _ = await site.admin("PUT", f"{cluster}/kdb/{CRITICAL}?reason=shared", "c1")
    assert status == 200
    body = {"key": "system:/app", "at": "2000-01-01T00:00:00Z"}
    status, refused_body = await site.admin("POST", f"{cluster}/rollback", body)
    assert status == 400 and refused_body["error"]["key"] == CRITICAL, refused_body
    assert "c1" in await site.host.kdb("get", CRITICAL)
    status, rolled = await site.admin("POST", f"{cluster}/rollback?reason=unshare", body)
    assert status == 200, rolled
    assert CRITICAL not in await site.host.kdb("ls", "system:/app")

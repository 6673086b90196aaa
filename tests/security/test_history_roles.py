"""Issue 12: preview, revert (forced or not) and rollback need the role of the write they wrap
(editor); a viewer may read the history but is refused every one of them, over real daemons,
and the refusal changes nothing and records nothing."""

from __future__ import annotations

from support.processes import Api

from .conftest import Site

KEY = "user:/app/port"


async def test_a_viewer_reads_the_history_but_cannot_preview_revert_or_roll_back(
    site: Site,
) -> None:
    instance, cluster = f"/api/instances/{site.instance}", f"/api/clusters/{site.cluster}"
    status, _ = await site.admin("PUT", f"{instance}/kdb/{KEY}", "8080")
    assert status == 200
    status, _ = await site.admin("PUT", f"{instance}/kdb/{KEY}", "9090")
    assert status == 200
    status, history = await site.viewer("GET", f"/api/history?instance={site.instance}")
    assert status == 200
    latest = history[0]
    assert [(c["before"], c["after"]) for c in latest["changes"]] == [("8080", "9090")]
    _, audit_before = await site.admin("GET", "/api/audit")

    attempts = [
        ("PUT", f"{instance}/kdb/{KEY}?preview=true", "1"),
        ("DELETE", f"{instance}/kdb/user:/app?preview=true", None),
        ("PUT", f"{cluster}/kdb/{KEY}?preview=true", "1"),
        ("POST", f"/api/history/{latest['id']}/revert", None),
        ("POST", f"/api/history/{latest['id']}/revert?force=true", None),
        ("POST", f"/api/history/{latest['id']}/revert?preview=true", None),
        ("POST", f"{instance}/rollback", {"key": "user:/app", "at": latest["time"]}),
        ("POST", f"{cluster}/rollback?force=true", {"key": "user:/app", "at": latest["time"]}),
    ]
    for method, path, body in attempts:
        status, answer = await site.viewer(method, path, body)
        assert status == 403, (method, path, answer)
        assert answer["error"]["code"] == "forbidden"

    assert (await site.host.kdb("get", KEY)).strip() == "9090"
    _, audit_after = await site.admin("GET", "/api/audit")
    assert audit_after == audit_before

    await site.admin(
        "POST", "/api/users", {"name": "eddie", "password": "editor-password-1", "role": "editor"}
    )
    status, _ = await site.admin("PUT", f"{instance}/kdb/{KEY}", "7070")
    assert status == 200
    editor = Api(site.clusterd.url)
    try:
        status, _ = await editor(
            "POST", "/api/login", {"user": "eddie", "password": "editor-password-1"}
        )
        assert status == 200
        status, refused = await editor("POST", f"/api/history/{latest['id']}/revert")
        assert status == 409 and refused["error"]["keys"] == [KEY]
        status, _ = await editor("POST", f"/api/history/{latest['id']}/revert?force=true")
        assert status == 200
    finally:
        await editor.close()
    assert (await site.host.kdb("get", KEY)).strip() == "8080"

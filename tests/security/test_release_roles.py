"""Issue 12: drafting a subtree write, removing it, and promoting or rolling back a release
(from its own routes or from the history) are writes and need an editor; a viewer is refused
each, over real daemons, and the refusal changes neither the draft nor the release."""

from __future__ import annotations

from .conftest import Site

PORT, HOST = "system:/app/port", "system:/app/db/host"


async def test_a_viewer_can_neither_draft_a_subtree_nor_promote_or_roll_back_a_release(
    site: Site,
) -> None:
    cluster = f"/api/clusters/{site.cluster}"
    for key, value in ((PORT, "8080"), (HOST, "db0")):
        status, _ = await site.admin("PUT", f"{cluster}/kdb/{key}", value)
        assert status == 200
    subtree = {"op": "rm", "key": "system:/app", "recursive": True}
    status, _ = await site.viewer("POST", f"{cluster}/draft", subtree)
    assert status == 403
    status, group = await site.admin("POST", f"{cluster}/draft", subtree)
    assert status == 201 and group["count"] == 2, group
    status, _ = await site.viewer("DELETE", f"{cluster}/draft/{group['id']}")
    assert status == 403
    status, draft = await site.viewer("GET", f"{cluster}/draft")
    assert status == 200 and [entry["count"] for entry in draft["edits"]] == [2]

    status, release = await site.admin(
        "POST", f"{cluster}/draft/publish", {"message": "drop app", "canary": [site.instance]}
    )
    assert status == 201 and release["state"] == "canary", release
    attempts = [
        f"{cluster}/releases/{release['id']}/promote",
        f"{cluster}/releases/{release['id']}/rollback",
        f"/api/history/{release['entry']}/revert",
    ]
    for path in attempts:
        status, answer = await site.viewer("POST", path)
        assert status == 403, (path, answer)
    status, releases = await site.viewer("GET", f"{cluster}/releases")
    assert [r["state"] for r in releases] == ["canary"]
    assert HOST not in await site.host.kdb("ls", "system:/")  # the canary has the release

    status, _ = await site.admin("POST", f"/api/history/{release['entry']}/revert")
    assert status == 200
    status, releases = await site.viewer("GET", f"{cluster}/releases")
    assert [r["state"] for r in releases] == ["rolled-back"]
    assert "db0" in await site.host.kdb("get", HOST)

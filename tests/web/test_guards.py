"""Issue 12 in the browser: real counts and small reads in the tree, a subtree delete that asks
first with its consequence, the key panel's effective value (cascading resolution), and a
critical key's reason, asked for its write and its undo alike."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Dialog, WebSocket, expect

from .stack import Stack
from .ui import WebUI

PARTS, PER_PART = 10, 1001  # 10010 keys below `many`: beyond the 10000 names an `ls` holds


def test_tree_shows_real_counts_and_expanding_two_children_reads_little(
    ui: WebUI, stack: Stack
) -> None:
    admin = stack.admin()
    host = stack.instances["web-1"]
    # In writes small enough for the instance timeout, each answered after its events went
    # out: none of them arrives while the page is open.
    parts = {
        f"many/p{part}": [f"many/p{part}/k{index:04}" for index in range(PER_PART)]
        for part in range(PARTS)
    }
    for below, names in (*parts.items(), ("two", ["two/a", "two/b"])):
        keys = [{"name": f"user:/guards/{name}", "value": "x"} for name in names]
        url = f"/api/instances/{host.id}/kdbAll/user:/guards/{below}"
        answer = admin.request("PUT", url, {"keys": keys})
        assert answer.status == 200, answer.body
    many = PARTS * PER_PART

    received: list[int] = []

    def count_frames(socket: WebSocket) -> None:
        socket.on("framereceived", lambda frame: received.append(len(frame)))

    ui.page.on("websocket", count_frames)
    ui.open_instance("web-1")
    ui.reveal("user:/guards").locator(".twisty").click()
    expect(ui.row("user:/guards/many").locator(".key-count")).to_have_text(str(many))
    expect(ui.row("user:/guards").locator(".key-count")).to_have_text(str(many + 2))

    received.clear()
    two = ui.row("user:/guards/two")
    two.locator(".twisty").click()
    expect(two).to_have_attribute("aria-expanded", "true")
    expect(ui.row("user:/guards/two/b")).to_be_visible()
    # Two keys' worth, not the names of all ten thousand siblings' keys.
    assert sum(received) < 8_000, received

    two.click()
    ui.page.get_by_role("button", name="Delete").click()
    # Asked once: the confirm step with the delete's preview says what goes besides the key.
    dialog = ui.page.get_by_role("dialog")
    expect(dialog).to_have_count(1)
    expect(dialog.get_by_test_id("consequence")).to_contain_text("2 keys below it")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(ui.row("user:/guards/two/a")).to_be_visible()
    ui.page.get_by_role("button", name="Delete").click()
    ui.apply_previewed()
    expect(ui.page.get_by_role("dialog")).to_have_count(0)
    expect(ui.row("user:/guards/two")).to_have_count(0)
    gone = admin.request("GET", f"/api/instances/{host.id}/kdb/user:/guards/two")
    assert gone.body["count"] == 0
    for below in parts:
        admin.request("DELETE", f"/api/instances/{host.id}/kdb/user:/guards/{below}")


def test_key_panel_shows_which_namespace_wins(ui: WebUI, stack: Stack) -> None:
    admin = stack.admin()
    web1 = stack.instances["web-1"].id
    for key, value in (("system:/guards/port", "80"), ("user:/guards/port", "8080")):
        assert admin.request("PUT", f"/api/instances/{web1}/kdb/{key}", value).status == 200
    ui.open_instance("web-1")
    ui.reveal("system:/guards/port")
    effective = ui.page.get_by_test_id("effective-value")
    expect(effective.get_by_test_id("effective-winner")).to_have_text("user:/guards/port")
    expect(effective.locator("tr.winner")).to_contain_text("8080")
    # user:/ comes before system:/ in the cascade: the lookup stops there.
    expect(effective.locator("tr", has_text="system:/guards/port")).to_have_count(0)
    assert ui.accessibility_violations() == []
    for key in ("system:/guards", "user:/guards"):
        admin.request("DELETE", f"/api/instances/{web1}/kdb/{key}")


@pytest.fixture(scope="module")
def typed(stack: Stack) -> Iterator[dict[str, Any]]:
    """Cluster `typed` whose member `typed-1` (an instance of its own) has a spec that types
    `/typed/port` (short, 1-1000) and marks `/typed/secret` critical."""
    host = stack.add_instance("typed-1", sample=False)
    for args in (
        ("meta-set", "spec:/typed/port", "check/type", "short"),
        ("meta-set", "spec:/typed/port", "check/range", "1-1000"),
        ("meta-set", "spec:/typed/secret", "critical", "1"),
        ("set", "system:/typed/secret", "old"),
    ):
        host.kdb(*args)
    admin = stack.admin()
    instance = stack.register(host, admin)
    cluster = admin.request("POST", "/api/clusters", {"name": "typed"}).body
    joined = admin.request(
        "POST", f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]}
    )
    assert joined.status == 201, joined.body
    written = admin.request("PUT", f"/api/clusters/{cluster['id']}/kdb/system:/typed/port", "80")
    assert written.status == 200, written.body
    yield {"cluster": cluster["id"], "instance": instance["id"], "host": host}
    admin.request("DELETE", f"/api/clusters/{cluster['id']}")
    admin.request("DELETE", f"/api/instances/{instance['id']}")


def test_a_cluster_key_is_typed_by_its_members_spec_and_checked_before_any_member(
    ui: WebUI, typed: dict[str, Any]
) -> None:
    page = ui.page
    ui.open_target("cluster", typed["cluster"], "typed")
    ui.reveal("system:/typed/port")
    expect(page.locator(".badge-type")).to_have_text("short")
    spec = page.get_by_test_id("spec-meta")
    expect(spec).to_contain_text("check/range = 1-1000")
    ui.value_editor().fill("5000")
    ui.value_editor().press("Enter")
    ui.close_refused_preview("1-1000")
    ui.expect_value_error("1-1000")
    host = typed["host"]
    assert host.kdb("get", "system:/typed/port").stdout.strip() == "80"


def test_a_critical_key_asks_for_a_reason_which_the_audit_log_keeps(
    ui: WebUI, stack: Stack, typed: dict[str, Any]
) -> None:
    page = ui.page
    ui.open_target("instance", typed["instance"], "typed-1")
    ui.reveal("system:/typed/secret")

    page.once("dialog", lambda dialog: dialog.dismiss())
    ui.type_value("new")
    ui.expect_value_error("critical")
    assert typed["host"].kdb("get", "system:/typed/secret").stdout.strip() == "old"

    prompts: list[str] = []

    def answer(dialog: Dialog) -> None:
        prompts.append(dialog.message)
        dialog.accept("rotated after the leak")

    page.once("dialog", answer)
    ui.type_value("new")
    expect(page.get_by_role("button", name="Revert")).to_have_count(0)  # saved
    expect(page.get_by_test_id("value-error")).to_have_count(0)
    assert "system:/typed/secret is critical" in prompts[0]
    assert typed["host"].kdb("get", "system:/typed/secret").stdout.strip() == "new"
    entries = (
        stack.admin()
        .request("GET", f"/api/audit?instance={typed['instance']}&key=system:/typed/secret")
        .body
    )
    assert entries[0]["result"]["args"]["reason"] == "rotated after the leak"


def test_deleting_a_subtree_with_a_critical_key_asks_for_the_reason_once_before_its_preview(
    ui: WebUI, stack: Stack, typed: dict[str, Any]
) -> None:
    page, key, host = ui.page, "system:/typed/secret", typed["host"]
    assert host.kdb("set", f"{key}/note", "kept beside it").returncode == 0
    ui.open_target("instance", typed["instance"], "typed-1")
    prompts: list[str] = []

    def answer(dialog: Dialog) -> None:
        prompts.append(dialog.message)
        dialog.accept("retiring the old secret")

    page.on("dialog", answer)
    ui.reveal(key).click()
    page.get_by_role("button", name="Delete").click()
    # The preview, made with the reason, shows what goes and can be applied.
    ui.apply_previewed()
    expect(ui.row(key)).to_have_count(0)
    assert len(prompts) == 1 and f"{key} is critical" in prompts[0]  # not asked again
    assert host.kdb("get", key, check=False).returncode != 0
    entries = stack.admin().request("GET", f"/api/audit?instance={typed['instance']}&key={key}")
    assert entries.body[0]["result"]["args"]["reason"] == "retiring the old secret"
    host.kdb("set", key, "old")  # as the module's other tests expect it


def test_undo_of_a_critical_change_asks_for_a_reason_which_the_audit_log_keeps(
    ui: WebUI, stack: Stack, typed: dict[str, Any]
) -> None:
    page, key, host = ui.page, "system:/typed/secret", typed["host"]
    before = host.kdb("get", key).stdout.strip()
    ui.open_target("instance", typed["instance"], "typed-1")
    ui.reveal(key)
    page.once("dialog", lambda dialog: dialog.accept("try a longer one"))
    ui.type_value("longer-secret")
    expect(ui.row(key).locator(".key-value")).to_have_text("longer-secret")

    prompts: list[str] = []

    def answer(dialog: Dialog) -> None:
        prompts.append(dialog.message)
        dialog.accept("the longer one breaks the client")

    page.once("dialog", answer)
    undo = page.get_by_role("button", name="↶ Undo")
    expect(undo).to_have_attribute("title", re.compile(f"set {re.escape(key)} on typed-1"))
    undo.click()
    expect(page.locator(".notice", has_text="Undone")).to_be_visible()
    assert f"{key} is critical" in prompts[0]
    assert host.kdb("get", key).stdout.strip() == before
    expect(ui.row(key).locator(".key-value")).to_have_text(before)
    entries = (
        stack.admin()
        .request("GET", f"/api/history?instance={typed['instance']}&key={key}&limit=1")
        .body
    )
    assert entries[0]["action"] == "revert"
    assert entries[0]["args"]["reason"] == "the longer one breaks the client"


def test_unregistering_an_instance_asks_first_and_says_what_happens(
    ui: WebUI, stack: Stack
) -> None:
    host = stack.add_instance("leaving-1", sample=False)
    stack.register(host)
    page = ui.page
    page.goto("/#/")
    row = page.locator("tr[data-instance='leaving-1']")
    row.get_by_role("button", name="Remove").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_test_id("consequence")).to_contain_text("clusterd stops reaching it")
    dialog.get_by_role("button", name="Cancel").click()
    expect(row).to_be_visible()
    row.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove leaving-1").click()
    expect(row).to_have_count(0)
    names = [item["name"] for item in stack.admin().request("GET", "/api/instances").body]
    assert "leaving-1" not in names

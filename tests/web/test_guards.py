"""Issue 12 in the browser: real counts and small reads in the tree, a subtree delete that asks
first with its consequence, and the key panel's effective value (cascading resolution)."""

from __future__ import annotations

from playwright.sync_api import WebSocket, expect

from .stack import Stack
from .ui import WebUI

MANY = 2_000  # kdbAll of more is refused by the audit size limit


def test_tree_shows_real_counts_and_expanding_two_children_reads_little(
    ui: WebUI, stack: Stack
) -> None:
    admin = stack.admin()
    web1 = stack.instances["web-1"].id
    keys = [{"name": f"user:/guards/many/k{index:05}", "value": "x"} for index in range(MANY)]
    keys += [{"name": f"user:/guards/two/{name}", "value": name} for name in ("a", "b")]
    answer = admin.request("PUT", f"/api/instances/{web1}/kdbAll/user:/guards", {"keys": keys})
    assert answer.status == 200, answer.body

    received: list[int] = []

    def count_frames(socket: WebSocket) -> None:
        socket.on("framereceived", lambda frame: received.append(len(frame)))

    ui.page.on("websocket", count_frames)
    ui.open_instance("web-1")
    ui.reveal("user:/guards").locator(".twisty").click()
    expect(ui.row("user:/guards/many").locator(".key-count")).to_have_text(str(MANY))
    expect(ui.row("user:/guards").locator(".key-count")).to_have_text(str(MANY + 2))

    received.clear()
    two = ui.row("user:/guards/two")
    two.locator(".twisty").click()
    expect(two).to_have_attribute("aria-expanded", "true")
    expect(ui.row("user:/guards/two/b")).to_be_visible()
    # Two keys' worth, not the names of all ten thousand siblings' keys.
    assert sum(received) < 8_000, received

    two.click()
    ui.page.get_by_role("button", name="Delete").click()
    dialog = ui.page.get_by_role("dialog")
    expect(dialog.get_by_test_id("consequence")).to_contain_text("2 keys below it")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(ui.row("user:/guards/two/a")).to_be_visible()
    ui.page.get_by_role("button", name="Delete").click()
    ui.page.get_by_role("dialog").get_by_role("button", name="Delete user:/guards/two").click()
    expect(ui.row("user:/guards/two")).to_have_count(0)
    gone = admin.request("GET", f"/api/instances/{web1}/kdb/user:/guards/two")
    assert gone.body["count"] == 0
    admin.request("DELETE", f"/api/instances/{web1}/kdb/user:/guards")


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

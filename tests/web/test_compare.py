"""Compare with…: from an instance's screen to another instance, the differences below a key,
and a value copied across with an ordinary (audited) set."""

from __future__ import annotations

from playwright.sync_api import expect

from .stack import Stack
from .ui import WebUI


def test_compare_two_instances_and_copy_a_value_across(ui: WebUI, stack: Stack) -> None:
    admin = stack.admin()
    one, two = stack.instances["web-1"].id, stack.instances["web-2"].id
    for instance, key, value in (
        (one, "system:/cmp/port", "80"),
        (two, "system:/cmp/port", "81"),
        (one, "system:/cmp/only", "here"),
        (one, "system:/cmp/same", "x"),
        (two, "system:/cmp/same", "x"),
    ):
        assert admin.request("PUT", f"/api/instances/{instance}/kdb/{key}", value).status == 200
    page = ui.page
    ui.open_instance("web-1")
    page.get_by_role("button", name="Compare with…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Other instance or cluster").select_option(f"instance:{two}")
    dialog.get_by_label("Below key").fill("system:/cmp")
    dialog.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Compare web-1 (instance) with web-2 (instance)"
    )
    expect(page.get_by_test_id("same-count")).to_have_text("1")
    different = page.get_by_role("region", name="Different")
    expect(different.locator("tr[data-key='system:/cmp/port']")).to_contain_text("81")
    only_one = page.get_by_role("region", name="Only in web-1 (instance)")
    expect(only_one.locator("tr[data-key='system:/cmp/only']")).to_be_visible()

    different.get_by_role(
        "button", name="Copy to web-2 (instance) the value of system:/cmp/port"
    ).click()
    expect(different.locator("tr[data-key='system:/cmp/port']")).to_have_count(0)
    expect(page.get_by_test_id("same-count")).to_have_text("2")
    copied = admin.request("GET", f"/api/instances/{two}/kdb/system:/cmp/port").body
    assert copied["value"] == "80"
    audit = admin.request("GET", f"/api/audit?instance={two}&key=system:/cmp/port").body
    assert audit[0]["action"] == "set" and audit[0]["user"] == "admin"
    for instance in (one, two):
        admin.request("DELETE", f"/api/instances/{instance}/kdb/system:/cmp")

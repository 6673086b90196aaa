"""The audit log with its filters, and the main screens on a narrow (phone) screen."""

from __future__ import annotations

from playwright.sync_api import expect

from .stack import Instance
from .ui import WebUI


def test_audit_log_filters_by_instance_and_shows_before_and_after(
    ui: WebUI, web1: Instance
) -> None:
    page = ui.page
    ui.open_instance("web-1")
    ui.reveal("system:/demo/features/max_upload_mb")
    ui.type_value("64")
    expect(ui.row("system:/demo/features/max_upload_mb").locator(".key-value")).to_have_text("64")
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Instance").select_option(label="web-1")
    page.get_by_label("Key").fill("system:/demo/features/max_upload_mb")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("table.audit tbody tr").first
    expect(row).to_contain_text("admin")
    expect(row.locator("td[data-label='After'] code")).to_have_text("64")
    expect(row.locator("td[data-label='Before'] code")).not_to_have_text("64")
    ui.screenshot("audit")


def test_narrow_screen_layout(ui: WebUI) -> None:
    page = ui.page
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("tr[data-instance='web-1']")).to_be_visible()
    ui.screenshot("narrow-overview")
    ui.open_instance("web-1")
    ui.reveal("system:/demo/web/server/port")
    box = page.locator(".key-pane").bounding_box()
    assert box is not None and box["width"] <= 390
    ui.screenshot("narrow-config")

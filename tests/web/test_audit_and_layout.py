"""The audit log with its filters, and the main screens on a narrow (phone) screen."""

from __future__ import annotations

import hashlib
import re

from playwright.sync_api import expect

from elektraweb.cluster.config import AUDIT_VALUE_LIMIT

from .stack import Instance, Stack
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


def test_a_value_over_the_audit_limit_shows_as_its_size_and_digest(
    ui: WebUI, stack: Stack, web1: Instance
) -> None:
    big = "z" * (AUDIT_VALUE_LIMIT + 1)
    answer = stack.admin().request("PUT", f"/api/instances/{web1.id}/kdb/user:/audit/big", big)
    assert answer.status == 200, answer.body
    page = ui.page
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Key").fill("user:/audit/big")
    page.get_by_role("button", name="Filter").click()
    after = page.locator("table.audit tbody tr").first.locator("td[data-label='After'] code")
    sha = hashlib.sha256(big.encode()).hexdigest()
    expect(after).to_have_text(f"{AUDIT_VALUE_LIMIT + 1} bytes, sha256 {sha[:12]}…")
    expect(after).to_have_attribute("title", f"SHA-256 {sha}")


def test_on_a_phone_a_tapped_key_shows_its_editor(ui: WebUI) -> None:
    page = ui.page
    page.set_viewport_size({"width": 390, "height": 844})
    ui.open_instance("web-1")
    ui.reveal("system:/demo/web/server/port")
    expect(page.locator("#key-title")).to_be_in_viewport()
    expect(ui.value_editor()).to_be_in_viewport()
    # One scrolling area: the tree does not scroll inside the page.
    assert page.locator(".tree-pane").evaluate("(pane) => pane.scrollHeight <= pane.clientHeight")


def test_live_regions_are_on_the_page_before_their_first_message(ui: WebUI) -> None:
    page = ui.page
    expect(page.locator(".notices[aria-live='polite']")).to_have_count(1)
    expect(page.locator(".errors[aria-live='assertive']")).to_have_count(1)
    ui.open_instance("web-1")
    status = page.get_by_test_id("search-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("")
    ui.search("log_level")
    expect(status).to_have_text(re.compile(r"^\d+ results?$"))


def test_the_undo_notice_stays_while_it_has_the_focus(ui: WebUI, stack: Stack) -> None:
    page = ui.page
    page.clock.install()
    key = "system:/demo/features/max_upload_mb"
    ui.open_instance("web-3")
    ui.reveal(key)
    page.get_by_role("button", name="Delete").click()
    ui.apply_previewed()
    notice = page.locator(".notice", has_text=f"Deleted {key}")
    undo = notice.get_by_role("button", name="Undo")
    undo.focus()
    page.clock.fast_forward("00:30")
    expect(notice).to_be_visible()
    undo.press("Enter")
    expect(ui.row(key)).to_be_visible()
    assert stack.instances["web-3"].kdb("get", key).returncode == 0


def test_reduced_motion_and_forced_colours_are_honoured(ui: WebUI) -> None:
    page = ui.page
    ui.open_instance("web-1")
    row = ui.reveal("system:/demo/web/server/port")
    page.emulate_media(reduced_motion="reduce")
    assert row.evaluate("(r) => getComputedStyle(r).transitionDuration") == "0s"
    page.emulate_media(reduced_motion="no-preference", forced_colors="active")
    assert row.evaluate("(r) => getComputedStyle(r).outlineStyle") == "solid"
    dot = page.locator(".status .dot").first
    assert dot.evaluate("(d) => getComputedStyle(d).forcedColorAdjust") == "none"

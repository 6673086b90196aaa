"""Changes made elsewhere (here: `kdb set` on the instance's host) appear without a reload,
highlighted; a key being edited keeps what the user typed and says it changed."""

from __future__ import annotations

from playwright.sync_api import expect

from .stack import Instance
from .ui import WebUI


def test_kdb_set_on_the_host_shows_up_without_reload(ui: WebUI, web1: Instance) -> None:
    ui.open_instance("web-1")
    ui.reveal("system:/demo/cache/ttl_seconds")
    row = ui.row("system:/demo/cache/ttl_seconds")
    expect(row.locator(".key-value")).to_have_text("300")
    web1.kdb("set", "system:/demo/cache/ttl_seconds", "900")
    expect(row.locator(".key-value")).to_have_text("900", timeout=5_000)
    expect(ui.value_editor()).to_have_value("900")


def test_a_new_key_from_the_host_appears_in_an_open_level(ui: WebUI, web1: Instance) -> None:
    ui.open_instance("web-1")
    ui.reveal("system:/demo/cache/eviction")
    web1.kdb("set", "system:/demo/cache/shards", "3")
    expect(ui.row("system:/demo/cache/shards")).to_be_visible(timeout=5_000)


def test_editing_a_key_that_changes_elsewhere_keeps_the_draft(ui: WebUI, web1: Instance) -> None:
    ui.open_instance("web-1")
    ui.reveal("system:/demo/database/host")
    ui.value_editor().fill("db-local")
    web1.kdb("set", "system:/demo/database/host", "db-9.internal")
    warning = ui.page.get_by_test_id("edited-elsewhere")
    expect(warning).to_contain_text("Changed on the host", timeout=5_000)
    expect(warning).to_contain_text("db-9.internal")
    expect(ui.value_editor()).to_have_value("db-local")
    ui.screenshot("edited-elsewhere")
    ui.page.get_by_role("button", name="Keep mine").click()
    ui.value_editor().press("Enter")
    expect(ui.row("system:/demo/database/host").locator(".key-value")).to_have_text("db-local")
    assert web1.kdb("get", "system:/demo/database/host").stdout.strip() == "db-local"

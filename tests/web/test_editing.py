"""Editing driven by metadata: a boolean toggle, an enum select, a number in its range, a regex
with its message; the mounted file on the instance changes, refused values are explained."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .stack import Instance
from .ui import WebUI


def test_boolean_toggle_changes_the_file(ui: WebUI, web1: Instance) -> None:
    ui.open_instance("web-1")
    ui.reveal("system:/demo/web/tls/enabled")
    switch = ui.page.get_by_role("switch")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    ini = (web1.root / "system/demo/web.ini").read_text()
    assert re.search(r"^enabled = yes$", ini, re.M), ini  # the file's own spelling of true
    assert "; Shown in the page footer" in ini  # comments survive the edit


def test_enum_select_changes_the_file(ui: WebUI, web1: Instance) -> None:
    ui.open_instance("web-1")
    ui.reveal("system:/demo/web/server/log_level")
    select = ui.value_editor()
    expect(select.locator("option")).to_have_text(["debug", "info", "warning", "error"])
    select.select_option("warning")
    expect(ui.row("system:/demo/web/server/log_level").locator(".key-value")).to_have_text(
        "warning"
    )
    assert "log_level = warning" in (web1.root / "system/demo/web.ini").read_text()


def test_ranged_number_is_checked_then_saved(ui: WebUI, web1: Instance) -> None:
    ui.open_instance("web-1")
    ui.reveal("system:/demo/web/server/workers")
    expect(ui.page.locator(".hint")).to_contain_text("Range 1-64")
    ui.type_value("65")
    ui.expect_value_error("65 is not within the range 1-64")
    assert "workers = 4" in (web1.root / "system/demo/web.ini").read_text()
    ui.type_value("12")
    expect(ui.row("system:/demo/web/server/workers").locator(".key-value")).to_have_text("12")
    assert "workers = 12" in (web1.root / "system/demo/web.ini").read_text()
    ui.screenshot("key-editor")


def test_regex_refusal_shows_the_keys_message(ui: WebUI, web1: Instance) -> None:
    ui.open_instance("web-1")
    ui.reveal("system:/demo/web/server/name")
    ui.type_value("Not Valid!")
    ui.expect_value_error("lower-case letters, digits and '-', starting with a letter")
    assert "name = web-1" in (web1.root / "system/demo/web.ini").read_text()


def test_server_refusal_is_shown_when_the_page_cannot_check(ui: WebUI, web1: Instance) -> None:
    """Line-wise regex matching is left to the server; its refusal is shown by the field."""
    web1.kdb("meta-set", "system:/demo/web/server/host", "check/validation", "[[:digit:].]+")
    web1.kdb("meta-set", "system:/demo/web/server/host", "check/validation/match", "LINE")
    web1.kdb(
        "meta-set", "system:/demo/web/server/host", "check/validation/message", "an IPv4 address"
    )
    ui.open_instance("web-1")
    ui.reveal("system:/demo/web/server/host")
    ui.type_value("localhost")
    ui.expect_value_error("an IPv4 address")
    assert "host = 0.0.0.0" in (web1.root / "system/demo/web.ini").read_text()

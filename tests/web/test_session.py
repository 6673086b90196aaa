"""Logging in and out; who is logged in and with which role; a viewer changes nothing."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import VIEWER
from .stack import ADMIN_PASSWORD
from .ui import WebUI


def test_wrong_password_is_refused_then_login_shows_user_and_role(ui_page_unlogged: WebUI) -> None:
    web = ui_page_unlogged
    page = web.page
    page.goto("/")
    web.screenshot("login")
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")

    web.log_in("admin", ADMIN_PASSWORD)
    expect(page.locator(".role")).to_have_text("admin")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_session_survives_a_reload(ui: WebUI) -> None:
    ui.page.reload()
    expect(ui.page.locator(".user-name")).to_have_text("admin")


def test_viewer_sees_everything_and_can_change_nothing(viewer_ui: WebUI) -> None:
    page = viewer_ui.page
    expect(page.locator(".user-name")).to_have_text(VIEWER[0])
    expect(page.locator(".role")).to_have_text("viewer")
    expect(page.locator("tr[data-instance='web-1']")).to_be_visible()
    expect(page.get_by_role("button", name="+ Add instance")).to_have_count(0)
    viewer_ui.open_instance("web-1")
    expect(page.get_by_role("button", name="+ New key")).to_have_count(0)
    viewer_ui.reveal("system:/demo/web/server/port")
    expect(page.locator(".readonly-reason")).to_contain_text("your role may only look")
    expect(page.locator("input#value-editor")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    viewer_ui.screenshot("viewer-key")


def test_a_read_only_value_is_a_named_read_only_field(viewer_ui: WebUI) -> None:
    viewer_ui.open_instance("web-1")
    viewer_ui.reveal("system:/demo/web/server/port")
    value = viewer_ui.page.get_by_role("textbox", name="Value of system:/demo/web/server/port")
    expect(value).to_have_attribute("aria-readonly", "true")
    expect(value).to_have_accessible_description(re.compile("your role may only look"))

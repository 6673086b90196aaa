"""The users and tokens screen: admins list, create, re-role and delete users; everyone creates
API tokens (the secret shown once), lists and revokes them, and changes their own password."""

from __future__ import annotations

import urllib.error
import urllib.request

from playwright.sync_api import Page, expect

from .conftest import SCREENSHOTS
from .stack import RestClient, Stack
from .ui import WebUI


def status_with_token(stack: Stack, secret: str) -> int:
    """What `GET /api/me` answers a script that sends the token."""
    request = urllib.request.Request(
        f"{stack.url}/api/me", headers={"Authorization": f"Bearer {secret}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_an_admin_creates_re_roles_and_deletes_a_user(ui: WebUI, stack: Stack) -> None:
    page = ui.page
    page.get_by_role("link", name="Users and tokens").click()
    expect(page.get_by_role("heading", level=1, name="Users and tokens")).to_be_visible()
    page.get_by_label("User name").fill("olga")
    page.get_by_label("Initial password").fill("olga-password-1")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("[data-user='olga']")).to_be_visible()

    page.get_by_label("Role of olga").select_option("editor")
    olga = RestClient(stack.url)
    assert olga.login("olga", "olga-password-1").status == 200
    expect(page.get_by_label("Role of olga")).to_have_value("editor")
    assert olga.request("GET", "/api/me").body["role"] == "editor"

    page.get_by_role("button", name="Delete olga").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_test_id("consequence")).to_contain_text("can no longer log in")
    dialog.get_by_role("button", name="Delete olga").click()
    expect(page.locator("[data-user='olga']")).to_have_count(0)
    assert olga.request("GET", "/api/me").status == 401


def test_a_viewer_makes_a_token_sees_it_once_and_revokes_it(viewer_ui: WebUI, stack: Stack) -> None:
    page = viewer_ui.page
    page.get_by_role("link", name="Users and tokens").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_have_count(0)  # admins only
    page.get_by_label("Token name").fill("backup script")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("token-secret").inner_text()
    assert status_with_token(stack, secret) == 200
    page.get_by_role("button", name="I have copied it").click()
    expect(page.get_by_test_id("token-secret")).to_have_count(0)
    expect(page.locator("[data-token='backup script']")).to_contain_text("viewer")

    page.get_by_role("button", name="Revoke backup script").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke backup script").click()
    expect(page.locator("[data-token='backup script']")).to_have_count(0)
    assert status_with_token(stack, secret) == 401


def test_a_user_changes_their_own_password(page: Page, stack: Stack) -> None:
    created = stack.admin().request(
        "POST", "/api/users", {"name": "pat", "password": "pat-password-1", "role": "editor"}
    )
    assert created.status == 201, created.body
    elsewhere = RestClient(stack.url)  # pat's other session, e.g. a forgotten browser
    assert elsewhere.login("pat", "pat-password-1").status == 200
    ui = WebUI(page, stack, SCREENSHOTS)
    ui.log_in("pat", "pat-password-1")
    page.get_by_role("link", name="Users and tokens").click()
    current = page.get_by_label("Current password")
    expect(current).to_have_attribute("autocomplete", "current-password")
    expect(page.get_by_label("New password")).to_have_attribute("autocomplete", "new-password")
    current.fill("not-pats-password")
    page.get_by_label("New password").fill("pat-password-2")
    page.get_by_label("Repeat it").fill("pat-password-3")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert").filter(has_text="passwords")).to_have_text(
        "The two passwords differ."
    )
    page.get_by_label("Repeat it").fill("pat-password-2")
    page.get_by_role("button", name="Change password").click()
    # clusterd's refusal shows at the field it names, and the password stays as it was.
    expect(current).to_have_accessible_description("current_password is not this user's password")
    # (A success, not a failure: the web suite's failed logins from 127.0.0.1 stay below the
    # throttle's five free ones.)
    assert RestClient(stack.url).login("pat", "pat-password-1").status == 200

    current.fill("pat-password-1")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status").filter(has_text="password")).to_have_text(
        "Your password was changed; your other sessions have ended."
    )
    expect(current).to_have_value("")
    assert elsewhere.request("GET", "/api/me").status == 401
    assert RestClient(stack.url).login("pat", "pat-password-1").status == 401
    assert RestClient(stack.url).login("pat", "pat-password-2").status == 200
    # This session stays: the screen still reads pat's tokens.
    page.get_by_label("Token name").fill("after the change")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_test_id("token-secret")).to_be_visible()

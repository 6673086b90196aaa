"""Enrollment in the web client: an admin creates a one-time token, a host enrolls with it and
shows as pending, and the admin accepts it; axe finds nothing on the way."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .stack import Stack
from .ui import WebUI


def test_an_admin_creates_a_token_and_accepts_the_host_that_enrolled(
    ui: WebUI, stack: Stack
) -> None:
    page = ui.page
    page.get_by_role("button", name="+ Enrollment token").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Accept into cluster")).to_have_value("")
    assert ui.accessibility_violations() == []
    dialog.get_by_role("button", name="Create token").click()
    token = dialog.get_by_label("Token")
    expect(token).to_have_value(re.compile(r"^ewe_"))
    secret = token.input_value()
    expect(dialog.get_by_label("Command on the host")).to_have_value(
        re.compile(re.escape(f"--enroll {stack.url} --token {secret}"))
    )
    assert ui.accessibility_violations() == []
    ui.screenshot("enrollment-token")
    dialog.get_by_role("button", name="Done").click()

    host = stack.add_instance("enrolled", enrollment_token=secret)
    try:
        row = page.locator("tr[data-instance='enrolled']")
        expect(row.locator(".status")).to_have_text("Pending")
        expect(row.locator("code.fingerprint")).to_contain_text(host.public_key[:10])
        assert ui.accessibility_violations() == []
        ui.screenshot("enrollment-pending")
        # Pending hosts are nobody's members yet.
        expect(page.locator("option", has_text="enrolled")).to_have_count(0)

        row.get_by_role("button", name="Accept enrolled").click()
        expect(row.locator(".status")).to_have_text("Online")
        expect(row.get_by_role("link", name="enrolled")).to_be_visible()
        assert ui.accessibility_violations() == []
    finally:
        admin = stack.admin()
        listed = admin.request("GET", "/api/instances").body
        for instance in listed:
            if instance["name"] == "enrolled":
                admin.request("DELETE", f"/api/instances/{instance['id']}")

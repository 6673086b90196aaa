"""WCAG 2.1 AA as axe-core measures it in Chromium, on every screen and with dialogs open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .stack import Stack
from .ui import WebUI


@pytest.fixture(scope="module")
def team(stack: Stack) -> Iterator[dict[str, Any]]:
    """A cluster `team` with db-1 as its member, deleted afterwards (other tests use db-1)."""
    admin = stack.admin()
    created = admin.request("POST", "/api/clusters", {"name": "team"})
    assert created.status == 201, created.body
    joined = admin.request(
        "POST",
        f"/api/clusters/{created.body['id']}/instances",
        {"instance": stack.instances["db-1"].id},
    )
    assert joined.status == 201, joined.body
    yield created.body
    deleted = admin.request("DELETE", f"/api/clusters/{created.body['id']}")
    assert deleted.status in (200, 204), deleted.body


def test_login_screen_has_no_violations(ui_page_unlogged: WebUI) -> None:
    ui_page_unlogged.page.goto("/")
    expect(ui_page_unlogged.page.get_by_role("button", name="Log in")).to_be_visible()
    assert ui_page_unlogged.accessibility_violations() == []


def test_overview_and_its_dialog_have_no_violations(ui: WebUI, team: dict[str, Any]) -> None:
    page = ui.page
    expect(page.locator(f"[data-cluster='{team['name']}']")).to_be_visible()
    assert ui.accessibility_violations() == []
    page.get_by_role("button", name="+ Add instance").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert ui.accessibility_violations() == []


def test_instance_configuration_with_a_key_and_dialogs_has_no_violations(ui: WebUI) -> None:
    page = ui.page
    ui.open_instance("web-1")
    ui.reveal("system:/demo/web/server/workers")
    assert ui.accessibility_violations() == []
    for button in ("+ New key", "Import / Export", "Mounts", "Compare with…"):
        page.get_by_role("button", name=button).click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        assert ui.accessibility_violations() == [], button
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()


def test_cluster_configuration_has_no_violations(ui: WebUI, team: dict[str, Any]) -> None:
    ui.page.goto(f"/#/clusters/{team['id']}")
    expect(ui.page.get_by_role("heading", level=1, name="team", exact=True)).to_be_visible()
    expect(ui.row("user:/")).to_be_visible()
    assert ui.accessibility_violations() == []


def test_audit_screen_has_no_violations(ui: WebUI) -> None:
    ui.page.get_by_role("link", name="Audit log").click()
    expect(ui.page.locator("table.audit tbody tr").first).to_be_visible()
    assert ui.accessibility_violations() == []


def test_users_and_tokens_screen_has_no_violations(ui: WebUI) -> None:
    ui.page.get_by_role("link", name="Users and tokens").click()
    expect(ui.page.locator("table.users tbody tr").first).to_be_visible()
    assert ui.accessibility_violations() == []
    ui.page.get_by_label("Token name").fill("axe")
    ui.page.get_by_role("button", name="Create token").click()
    expect(ui.page.get_by_test_id("new-token")).to_be_visible()
    assert ui.accessibility_violations() == []
    ui.page.get_by_role("button", name="Revoke axe").click()
    expect(ui.page.get_by_role("dialog")).to_be_visible()
    assert ui.accessibility_violations() == []
    ui.page.get_by_role("dialog").get_by_role("button", name="Revoke axe").click()
    expect(ui.page.locator("[data-token='axe']")).to_have_count(0)


def test_compare_screen_has_no_violations(ui: WebUI, stack: Stack) -> None:
    one, two = stack.instances["web-1"].id, stack.instances["web-2"].id
    ui.page.goto(f"/#/compare?a=instance:{one}&b=instance:{two}&key=system:/demo")
    expect(ui.page.get_by_test_id("same-count")).to_be_visible()
    assert ui.accessibility_violations() == []

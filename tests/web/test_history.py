"""Previews, history, revert and undo in the browser: a subtree delete is confirmed with its diff
and its undo keeps the TOML file as it was; the key panel shows the key's history; a revert
and an undo refuse to overwrite someone else's change; undo survives a reload."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .stack import Instance, RestClient, Stack
from .ui import WebUI

OTHER = ("olga", "olga-secret-1")
DATABASE_FILE = "system/demo/database.toml"


@pytest.fixture(scope="module")
def olga(stack: Stack) -> Iterator[RestClient]:
    """Another editor, changing keys through the REST API meanwhile."""
    stack.add_user(*OTHER, "editor")
    client = RestClient(stack.url)
    assert client.login(*OTHER).status == 200
    yield client


@pytest.fixture
def db1(stack: Stack) -> Instance:
    return stack.instances["db-1"]


def test_a_subtree_delete_shows_its_diff_first_and_its_undo_keeps_the_toml_file(
    ui: WebUI, db1: Instance
) -> None:
    page, key = ui.page, "system:/demo/database/pool"
    file = db1.root / DATABASE_FILE
    before = file.read_text()
    assert re.search(r"^size = 10$", before, re.M), before
    ui.open_instance("db-1")
    ui.reveal(key)

    page.get_by_role("button", name="Delete").click()
    step = page.get_by_test_id("confirm-changes")
    # One question: the step with the diff also says what the delete takes with it.
    expect(page.get_by_role("dialog")).to_have_count(1)
    expect(step.get_by_test_id("consequence")).to_contain_text("the 2 keys below it")
    for removed in (f"{key}/size", f"{key}/timeout_seconds"):
        expect(step.locator(f"tr[data-key='{removed}']")).to_have_attribute(
            "data-change", "removed"
        )
    expect(step.locator("tr[data-key='system:/demo/database/pool/size'] td").nth(1)).to_have_text(
        "10"
    )
    step.get_by_role("button", name="Cancel").click()
    expect(step).to_have_count(0)
    expect(ui.row(key)).to_be_visible()
    assert file.read_text() == before

    page.get_by_role("button", name="Delete").click()
    ui.apply_previewed()
    expect(ui.row(key)).to_have_count(0)
    assert "size" not in file.read_text()
    page.locator(".notice", has_text=f"Deleted {key}").get_by_role("button", name="Undo").click()
    expect(ui.row(key)).to_be_visible()
    # Numbers stay numbers (`size = 10`, not "10"), and the table is where it was.
    assert file.read_text() == before


def test_the_key_panel_shows_its_history_and_a_revert_refuses_a_newer_change(
    ui: WebUI, db1: Instance, olga: RestClient
) -> None:
    page, key = ui.page, "system:/demo/database/name"
    ui.open_instance("db-1")
    ui.reveal(key)
    ui.type_value("orders")
    expect(ui.row(key).locator(".key-value")).to_have_text("orders")
    history = page.get_by_test_id("key-history")
    history.locator("summary").click()
    mine = history.locator(".history-entry", has_text="admin").first
    expect(mine.locator("tr[data-key]")).to_contain_text(["shop"])
    expect(mine.locator("tr[data-key] td").nth(2)).to_have_text("orders")

    changed = olga.request("PUT", f"/api/instances/{db1.id}/kdb/{key}", "billing")
    assert changed.status == 200, changed.body
    expect(ui.row(key).locator(".key-value")).to_have_text("billing")
    expect(history.locator(".history-entry").first).to_contain_text("olga")

    mine.get_by_role("button", name="Revert").click()
    conflict = mine.get_by_test_id("revert-conflict")
    expect(conflict).to_contain_text(f"{key} changed since")
    assert 'name = "billing"' in (db1.root / DATABASE_FILE).read_text()
    conflict.get_by_role("button", name="Revert anyway").click()
    expect(ui.row(key).locator(".key-value")).to_have_text("shop")
    assert 'name = "shop"' in (db1.root / DATABASE_FILE).read_text()


def test_undo_is_kept_by_clusterd_across_a_reload_and_refuses_someone_elses_change(
    ui: WebUI, db1: Instance, olga: RestClient
) -> None:
    page, key = ui.page, "system:/demo/database/host"
    file = db1.root / DATABASE_FILE
    ui.open_instance("db-1")
    ui.reveal(key)
    ui.type_value("db2.internal")
    expect(ui.row(key).locator(".key-value")).to_have_text("db2.internal")

    page.reload()
    expect(page.locator(".connection")).to_have_attribute("data-state", "open")
    undo = page.get_by_role("button", name="↶ Undo")
    expect(undo).to_have_attribute("title", re.compile(f"set {re.escape(key)} on db-1"))
    undo.click()
    expect(page.locator(".notice", has_text="Undone")).to_be_visible()
    assert 'host = "db.internal"' in file.read_text()

    ui.open_instance("db-1")
    ui.reveal(key)
    ui.type_value("db3.internal")
    expect(ui.row(key).locator(".key-value")).to_have_text("db3.internal")
    changed = olga.request("PUT", f"/api/instances/{db1.id}/kdb/{key}", "db4.internal")
    assert changed.status == 200, changed.body
    page.get_by_role("button", name="↶ Undo").click()
    expect(page.locator(".error-card", has_text="someone else")).to_be_visible()
    assert 'host = "db4.internal"' in file.read_text()

"""Instances and clusters on the overview: add with the key's fingerprint shown, duplicates and
a second cluster refused next to the field."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .stack import Stack
from .ui import WebUI


def test_add_instance_then_duplicate_is_refused_next_to_the_field(ui: WebUI, stack: Stack) -> None:
    spare = stack.instances["spare"]
    page = ui.page
    ui.screenshot("overview")
    page.get_by_role("button", name="+ Add instance").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("spare")
    dialog.get_by_label("Endpoint").fill(spare.endpoint)
    dialog.get_by_label("Public key").fill(spare.public_key)
    expect(dialog.get_by_label("Key fingerprint")).to_contain_text(spare.public_key[:5])
    ui.screenshot("add-instance")
    dialog.get_by_role("button", name="Add instance").click()
    row = page.locator("tr[data-instance='spare']")
    expect(row).to_be_visible()
    expect(row.locator(".status")).to_have_text("Online")

    page.get_by_role("button", name="+ Add instance").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("spare-again")
    dialog.get_by_label("Endpoint").fill(spare.endpoint)
    dialog.get_by_label("Public key").fill(spare.public_key)
    dialog.get_by_role("button", name="Add instance").click()
    refusal = dialog.locator(".field-invalid .field-error")
    expect(refusal).to_contain_text(re.compile("already registered"))
    expect(page.locator("tr[data-instance='spare-again']")).to_have_count(0)
    ui.screenshot("duplicate-refused")


@pytest.fixture
def two_clusters_removed_after(stack: Stack) -> Iterator[tuple[str, str]]:
    """The names of the two clusters the test makes; they (and db-1's membership) are gone
    afterwards, so later tests of the shared stack find db-1 in no cluster."""
    yield ("first", "second")
    admin = stack.admin()
    for cluster in admin.request("GET", "/api/clusters").body:
        if cluster["name"] in ("first", "second"):
            admin.request("DELETE", f"/api/clusters/{cluster['id']}")


def test_an_instance_in_one_cluster_cannot_join_a_second(
    ui: WebUI, stack: Stack, two_clusters_removed_after: tuple[str, str]
) -> None:
    page = ui.page
    for name in two_clusters_removed_after:
        page.get_by_role("button", name="+ New cluster").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Name").fill(name)
        dialog.get_by_role("button", name="Create cluster").click()
        expect(page.locator(f"[data-cluster='{name}']")).to_be_visible()
    first = page.locator("[data-cluster='first']")
    first.get_by_label("Add member to first").select_option(label="db-1")
    first.get_by_role("button", name="Add").click()
    expect(first.locator("[data-member='db-1']")).to_be_visible()
    expect(page.locator("tr[data-instance='db-1']")).to_contain_text("first")

    second = page.locator("[data-cluster='second']")
    second.get_by_label("Add member to second").select_option(label="db-1 (in first)")
    second.get_by_role("button", name="Add").click()
    expect(second.get_by_role("alert")).to_contain_text("first")
    expect(second.locator("[data-member='db-1']")).to_have_count(0)
    ui.screenshot("second-cluster-refused")

"""A cluster's configuration: setting a key shows every member's result, and the key is locked
on each member."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import WebSocketRoute, expect

from .stack import ADMIN_PASSWORD, Stack
from .ui import WebUI

KEY = "system:/demo/web/server/workers"


@pytest.fixture(scope="module")
def shop(stack: Stack) -> Iterator[dict[str, Any]]:
    """The cluster `shop` with members web-2 and web-3, made through the REST API."""
    admin = stack.admin()
    created = admin.request("POST", "/api/clusters", {"name": "shop"})
    assert created.status == 201, created.body
    cluster = created.body
    for name in ("web-2", "web-3"):
        joined = admin.request(
            "POST",
            f"/api/clusters/{cluster['id']}/instances",
            {"instance": stack.instances[name].id},
        )
        assert joined.status == 201, joined.body
    probe = admin.request("GET", f"/api/clusters/{cluster['id']}/kdb/{KEY}")
    if probe.status == 501:
        pytest.xfail("clusterd runs without a cluster service: cluster kdb routes answer 501")
    yield cluster


def test_cluster_key_shows_each_members_result_and_is_locked_on_members(
    ui: WebUI, stack: Stack, shop: dict[str, Any]
) -> None:
    page = ui.page
    page.goto(f"/#/clusters/{shop['id']}")
    expect(page.get_by_role("heading", level=1, name="shop", exact=True)).to_be_visible()
    expect(page.locator(".member-strip [data-member]")).to_have_count(2)
    page.get_by_role("button", name="+ New key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(KEY)
    dialog.get_by_label("Type").select_option("short")
    dialog.get_by_label("Value").fill("16")
    dialog.get_by_role("button", name="Create key").click()
    ui.apply_previewed()
    # The confirm step showed the cluster's own change and each member's.
    for target in ("Cluster shop", "web-2", "web-3"):
        assert target in ui.last_preview, ui.last_preview
    expect(dialog).to_be_hidden()
    results = page.get_by_label("Result per member")
    for name in ("web-2", "web-3"):
        outcome = results.locator(f"[data-member='{name}']")
        expect(outcome).to_have_attribute("data-status", "applied")
    ui.screenshot("cluster")
    for name in ("web-2", "web-3"):
        ini = (stack.instances[name].root / "system/demo/web.ini").read_text()
        assert re.search(r"^workers = 16$", ini, re.M), ini

    ui.open_instance("web-2")
    ui.reveal(KEY)
    expect(page.get_by_test_id("lock")).to_contain_text("shop")
    expect(page.locator(".readonly-reason")).to_contain_text("owned by cluster shop")
    expect(ui.row(KEY).locator(".lock")).to_be_visible()
    ui.screenshot("member-locked-key")


def test_a_write_every_member_refuses_shows_their_refusals_and_no_false_conflict(
    ui_page_unlogged: WebUI, stack: Stack, shop: dict[str, Any]
) -> None:
    """The cluster publishes the refused value and then its undo; here both events reach the page
    only after the refusal (the order a slower event socket gives), and no "changed elsewhere"
    may stay on screen: the value is back where the edit started. The members' spec forbids
    the write (`restrict/write`), which clusterd's check before the fan-out leaves to them."""
    port = "system:/demo/web/server/port"
    made = stack.admin().request("PUT", f"/api/clusters/{shop['id']}/kdb/{port}", "8081")
    assert made.status == 200, made.body
    for name in ("web-2", "web-3"):
        stack.instances[name].kdb("meta-set", "spec:/demo/web/server/port", "restrict/write", "1")
    web = ui_page_unlogged
    page = web.page
    events: list[WebSocketRoute] = []
    held: list[str | bytes] = []

    def hold_events(route: WebSocketRoute) -> None:
        server = route.connect_to_server()
        events.append(route)
        server.on_message(lambda message: held.append(message) if holding else route.send(message))

    holding = False
    page.route_web_socket(re.compile(r"/zmq/events$"), hold_events)
    web.log_in("admin", ADMIN_PASSWORD)
    page.goto(f"/#/clusters/{shop['id']}")
    expect(page.get_by_role("heading", level=1, name="shop", exact=True)).to_be_visible()
    web.reveal(port)
    holding = True
    web.type_value("8082")
    web.apply_previewed()
    results = page.get_by_label("Result per member")
    for name in ("web-2", "web-3"):
        expect(results.locator(f"[data-member='{name}']")).to_have_attribute(
            "data-status", "rejected"
        )
    web.expect_value_error(".")
    holding = False
    for message in held:
        events[-1].send(message)
    expect(page.get_by_test_id("edited-elsewhere")).to_have_count(0)
    expect(web.row(port).locator(".key-value")).to_have_text("8081")
    for name in ("web-2", "web-3"):
        ini = (stack.instances[name].root / "system/demo/web.ini").read_text()
        assert re.search(r"^port = 8081$", ini, re.M), ini
        stack.instances[name].kdb("meta-rm", "spec:/demo/web/server/port", "restrict/write")


def test_a_value_the_members_spec_refuses_reaches_no_member(
    ui: WebUI, stack: Stack, shop: dict[str, Any]
) -> None:
    """clusterd checks the value against the members' spec before the fan-out: the refusal
    names key and value, and no member's file changes."""
    port = "system:/demo/web/server/port"
    made = stack.admin().request("PUT", f"/api/clusters/{shop['id']}/kdb/{port}", "8081")
    assert made.status == 200, made.body
    ui.open_target("cluster", shop["id"], "shop")
    ui.reveal(port)
    ui.type_value("70000")
    ui.close_refused_preview(f"{port}.*70000")
    ui.expect_value_error(f"{port}.*70000")
    expect(ui.page.get_by_label("Result per member").locator("[data-member]")).to_have_count(0)
    for name in ("web-2", "web-3"):
        ini = (stack.instances[name].root / "system/demo/web.ini").read_text()
        assert re.search(r"^port = 8081$", ini, re.M), ini


def test_switching_instances_before_the_first_opened_shows_only_the_last_ones_locks(
    ui: WebUI, stack: Stack, shop: dict[str, Any]
) -> None:
    """web-2 is in shop (its cluster's keys are locked there), web-1 in no cluster. The answers
    for web-2 are held back until the page has moved on to web-1: then web-2's late opening
    must not put its locks on web-1's screen."""
    owned = stack.admin().request("PUT", f"/api/clusters/{shop['id']}/kdb/{KEY}", "16")
    assert owned.status == 200, owned.body
    page = ui.page
    held: list[str | bytes] = []
    holding = False
    routes: list[WebSocketRoute] = []

    def hold_replies(route: WebSocketRoute) -> None:
        server = route.connect_to_server()
        routes.append(route)
        server.on_message(lambda message: held.append(message) if holding else route.send(message))

    page.route_web_socket(re.compile(r"/zmq$"), hold_replies)
    page.reload()  # the request socket now goes through the route
    expect(page.locator(".connection")).to_have_attribute("data-state", "open")
    expect(page.get_by_role("heading", name="Instances")).to_be_visible()
    holding = True
    for name in ("web-2", "web-1"):
        page.evaluate("(id) => { location.hash = `#/instances/${id}` }", stack.instances[name].id)
        expect(page.get_by_role("heading", level=1, name=name, exact=True)).to_be_visible()
    holding = False
    for message in held:
        routes[-1].send(message)
    # Opening expands system:/ by itself; revealing before that would toggle it shut again.
    expect(ui.row("system:/")).to_have_attribute("aria-expanded", "true")
    ui.reveal(KEY)
    expect(ui.value_editor()).to_be_editable()
    expect(ui.row(KEY).locator(".lock")).to_have_count(0)
    expect(page.get_by_test_id("lock")).to_have_count(0)

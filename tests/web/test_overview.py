"""The overview as an operator meets it: an offline instance whose "offline since" ages, errors
that do not pile up, the member picker after adding, and narrow screens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from .conftest import SCREENSHOTS
from .stack import ADMIN_PASSWORD, Stack
from .ui import WebUI


@pytest.fixture(scope="module")
def gone(stack: Stack) -> Iterator[dict[str, Any]]:
    """`gone-1`, registered offline at a loopback port nobody listens on, in the cluster `hold`;
    both removed afterwards."""
    admin = stack.admin()
    spare = stack.instances["spare"]
    instance = admin.request(
        "POST",
        "/api/instances",
        {
            "name": "gone-1",
            "endpoint": f"tcp://127.0.0.1:{spare.port + 1}",
            "public_key": spare.public_key,
            "offline": True,
        },
    )
    assert instance.status == 201, instance.body
    cluster = admin.request("POST", "/api/clusters", {"name": "hold"})
    assert cluster.status == 201, cluster.body
    joined = admin.request(
        "POST", f"/api/clusters/{cluster.body['id']}/instances", {"instance": instance.body["id"]}
    )
    assert joined.status == 201, joined.body
    yield {"instance": instance.body, "cluster": cluster.body}
    admin.request("DELETE", f"/api/clusters/{cluster.body['id']}")
    admin.request("DELETE", f"/api/instances/{instance.body['id']}")


def test_offline_since_ages_while_the_page_stays_open(
    ui_page_unlogged: WebUI, gone: dict[str, Any]
) -> None:
    web = ui_page_unlogged
    web.page.clock.install()
    web.log_in("admin", ADMIN_PASSWORD)
    since = web.page.locator("tr[data-instance='gone-1'] .since")
    expect(since).to_have_text("since just now")
    web.page.clock.fast_forward("03:00")
    expect(since).to_have_text("since 3 min ago")


def test_errors_of_one_cause_join_in_one_card_in_plain_words(
    ui: WebUI, gone: dict[str, Any]
) -> None:
    page = ui.page
    page.goto(f"/#/instances/{gone['instance']['id']}")
    cards = page.locator(".error-card")
    # clusterd answers once its attempt to reach the instance has failed: that may take up to
    # its instance timeout (5 s) per read, so the wait is longer than the default.
    expect(cards.first).to_contain_text("instance gone-1 cannot be reached", timeout=20_000)
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("(4 times)")
    expect(cards.first.locator(".error-message")).not_to_contain_text("/api/")
    cards.first.get_by_role("button", name="Dismiss error").click()
    expect(cards).to_have_count(0)


def test_member_picker_shows_its_prompt_after_adding_and_remove_keeps_the_focus(
    ui: WebUI, gone: dict[str, Any]
) -> None:
    page = ui.page
    card = page.locator("[data-cluster='hold']")
    picker = card.get_by_label("Add member to hold")
    picker.select_option(label="web-1")
    card.get_by_role("button", name="Add").click()
    expect(card.locator("[data-member='web-1']")).to_be_visible()
    expect(picker.locator("option:checked")).to_have_text("Add a member…")
    card.get_by_role("button", name="Remove web-1 from hold").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_test_id("consequence")).to_contain_text("web-1 leaves hold")
    dialog.get_by_role("button", name="Remove web-1 from hold").click()
    expect(card.locator("[data-member='web-1']")).to_have_count(0)
    expect(picker).to_be_focused()


def test_at_320_px_the_undo_button_and_an_offline_member_fit(
    ui: WebUI, gone: dict[str, Any]
) -> None:
    page = ui.page
    page.set_viewport_size({"width": 320, "height": 700})
    undo = page.get_by_role("button", name="↶ Undo")
    box = undo.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320, box
    card = page.locator("[data-cluster='hold']")
    member = card.locator("[data-member='gone-1']")
    expect(member).to_contain_text("Offline")
    card_box, member_box = card.bounding_box(), member.bounding_box()
    assert card_box is not None and member_box is not None
    assert member_box["x"] + member_box["width"] <= card_box["x"] + card_box["width"], (
        member_box,
        card_box,
    )
    assert member.evaluate("(li) => li.scrollWidth <= li.clientWidth")


def test_the_overview_does_not_shift_while_it_loads(browser: Browser, stack: Stack) -> None:
    """Cumulative layout shift on a phone, as Chromium measures it, stays under 0.1 (good)."""
    context = browser.new_context(base_url=stack.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.add_init_script(
        """window.shifts = 0; new PerformanceObserver((list) => { for (const entry of
        list.getEntries()) if (!entry.hadRecentInput) window.shifts += entry.value })
        .observe({type: 'layout-shift', buffered: true})"""
    )
    web = WebUI(page, stack, SCREENSHOTS)
    web.log_in("admin", ADMIN_PASSWORD)
    expect(page.locator("tr[data-instance='web-1'] .status")).to_be_visible()
    page.reload()
    expect(page.locator("tr[data-instance='web-1'] .status")).to_be_visible()
    expect(page.locator(".connection")).to_have_attribute("data-state", "open")
    shift = page.evaluate("window.shifts")
    context.close()
    assert shift < 0.1, shift

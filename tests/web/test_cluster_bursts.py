"""A cluster's bursts of changes on its open configuration screen, made by another client:
more events at once than the page's events queue holds (clusterd started with a queue of 8), so
clusterd sends `resync` instead of them and the page reads what it shows again; and an import of
100 keys, which comes as one subtree event whose keys the page then shows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from .conftest import SCREENSHOTS, _open
from .stack import ADMIN_PASSWORD, RestClient, Stack, running_stack
from .ui import WebUI

QUEUE_LIMIT = 8
BURST = 20  # keys of one write: each its own event (up to 32), more than the queue holds
IMPORTED = 100  # keys of one import: one subtree event
RESYNC_LOGGED = "told to resync"


@pytest.fixture(scope="module")
def small_queue_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A clusterd of its own whose `/zmq/events` connections queue only `QUEUE_LIMIT` events."""
    options = ("--event-queue-limit", str(QUEUE_LIMIT))
    with running_stack(tmp_path_factory.mktemp("burst"), (), options) as stack:
        yield stack


@pytest.fixture
def cluster_ui(browser: Browser, small_queue_stack: Stack) -> Iterator[WebUI]:
    for page in _open(browser, small_queue_stack):
        web = WebUI(page, small_queue_stack, SCREENSHOTS)
        web.log_in("admin", ADMIN_PASSWORD)
        yield web


def make_cluster(client: RestClient, name: str) -> dict[str, Any]:
    created = client.request("POST", "/api/clusters", {"name": name})
    assert created.status == 201, created.body
    return dict(created.body)


def numbered_ini(values: list[str]) -> str:
    """`k00`, `k01`, ... valued as `values` says."""
    return "".join(f"k{index:02d} = {value}\n" for index, value in enumerate(values))


def import_ini(client: RestClient, cluster: dict[str, Any], key: str, data: str) -> int:
    """Another client's import of the ini file `data` below `key`, overwriting what is there;
    how many keys it wrote."""
    answer = client.request_text(
        "POST", f"/api/clusters/{cluster['id']}/kdbImport/{key}?format=ini&strategy=overwrite", data
    )
    assert answer.status == 200, answer.body
    return int(answer.body["written"])


def resyncs_logged(stack: Stack) -> int:
    return (stack.base / "clusterd.log").read_text().count(RESYNC_LOGGED)


def test_a_page_that_fell_behind_reads_its_screen_again(
    cluster_ui: WebUI, small_queue_stack: Stack
) -> None:
    ui, page, admin = cluster_ui, cluster_ui.page, small_queue_stack.admin()
    cluster = make_cluster(admin, "burst")
    assert import_ini(admin, cluster, "system:/burst", numbered_ini(["old"] * BURST)) == BURST
    ui.open_target("cluster", cluster["id"], "burst")
    ui.reveal("system:/burst/k00")
    last = f"system:/burst/k{BURST - 1:02d}"
    expect(ui.row(last).locator(".key-value")).to_have_text("old")
    behind_before = resyncs_logged(small_queue_stack)

    # One write of 20 keys: its 20 events are published at once, so the page's queue overflows
    # and the events it held are replaced by one `resync`.
    burst = numbered_ini([f"new {index}" for index in range(BURST)])
    assert import_ini(admin, cluster, "system:/burst", burst) == BURST
    for index in range(BURST):
        row = ui.row(f"system:/burst/k{index:02d}")
        expect(row.locator(".key-value")).to_have_text(f"new {index}")
    assert resyncs_logged(small_queue_stack) > behind_before  # the page did fall behind
    expect(page.locator(".error-card")).to_have_count(0)
    expect(page.locator(".connection")).to_have_attribute("data-state", "open")


def grouped_ini(values: str) -> str:
    """`IMPORTED` keys in 4 sections: `g0/k00` ... `g3/k24`, each valued `<values> <index>`."""
    per_group = IMPORTED // 4
    return "".join(
        f"[g{group}]\n" + "".join(f"k{key:02d} = {values} {key}\n" for key in range(per_group))
        for group in range(4)
    )


def test_a_cluster_import_by_another_client_shows_its_keys(
    cluster_ui: WebUI, small_queue_stack: Stack
) -> None:
    """Each import comes as one subtree event: new keys appear, and changed values show even
    two levels below the subtree, where only reading the whole subtree again finds them."""
    ui, page, admin = cluster_ui, cluster_ui.page, small_queue_stack.admin()
    cluster = make_cluster(admin, "bulk")
    named = admin.request("PUT", f"/api/clusters/{cluster['id']}/kdb/system:/app/name", "bulk")
    assert named.status == 200, named.body
    ui.open_target("cluster", cluster["id"], "bulk")
    behind_before = resyncs_logged(small_queue_stack)
    key = "system:/imported/g3/k24"

    # The 4 section keys are written too.
    assert import_ini(admin, cluster, "system:/imported", grouped_ini("first")) == IMPORTED + 4
    expect(ui.row("system:/imported")).to_be_visible()
    ui.reveal(key)
    expect(ui.row(key).locator(".key-value")).to_have_text("first 24")

    assert import_ini(admin, cluster, "system:/imported", grouped_ini("second")) == IMPORTED
    expect(ui.row(key).locator(".key-value")).to_have_text("second 24")
    # Both came as one event each: the page never fell behind, so no resync read them.
    assert resyncs_logged(small_queue_stack) == behind_before
    expect(page.locator(".error-card")).to_have_count(0)

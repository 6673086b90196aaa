"""Bulk changes on a big instance: with 100k keys on screen, a 5k-key `kdb import` on the host
and a 20k-key import through the page arrive as one change each. The page shows the new keys,
shows no error, keeps saving edits, and never reads the whole `user:/` namespace again for keys
it has not loaded."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, WebSocket, expect

from .conftest import SCREENSHOTS, _open
from .stack import ADMIN_PASSWORD, Instance, Stack, running_stack
from .ui import WebUI

GROUPS, PER_GROUP = 100, 1000  # 100k keys below user:/bench
HOST_IMPORT, PAGE_IMPORT = 5_000, 20_000
# How the page asks for the `user:/` namespace itself (the key name is encoded whole).
NAMESPACE_READ = b'/kdb/user%3A%2F"'


def write_100k_keys(instance: Instance) -> None:
    """The namespaces' files in dump format, written directly: far faster than setting."""
    keys = [("app/name", "big"), ("app/port", "8080")] + [
        (f"bench/g{group:03d}/k{leaf:03d}", str(group * PER_GROUP + leaf))
        for group in range(GROUPS)
        for leaf in range(PER_GROUP)
    ]
    write_dump(instance.root / "user" / "default.ecf", keys)
    write_dump(instance.root / "system" / "default.ecf", [("app/mode", "big")])


def write_dump(file: Path, keys: list[tuple[str, str]]) -> None:
    records = [b"kdbOpen 2\n"]
    for name, value in keys:
        raw_name, raw_value = name.encode(), value.encode()
        records.append(
            b"$key string %d %d\n%s\n%s\n" % (len(raw_name), len(raw_value), raw_name, raw_value)
        )
    records.append(b"$end\n")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(b"".join(records))


def ini_of(count: int) -> str:
    return "".join(f"k{index:05d} = {index}\n" for index in range(count))


@pytest.fixture(scope="module")
def big_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A clusterd of its own, so the other browser tests never meet this instance."""
    with running_stack(tmp_path_factory.mktemp("big"), ()) as stack:
        stack.register(stack.add_instance("big", sample=False, prepare=write_100k_keys))
        yield stack


@pytest.fixture
def big_ui(browser: Browser, big_stack: Stack) -> Iterator[tuple[WebUI, list[int]]]:
    """The page, logged in, and how often it has asked for `user:/` itself so far."""
    for page in _open(browser, big_stack):
        web = WebUI(page, big_stack, SCREENSHOTS)
        reads = count_namespace_reads(web)
        web.log_in("admin", ADMIN_PASSWORD)
        yield web, reads


def count_namespace_reads(ui: WebUI) -> list[int]:
    """A counter of the requests for `user:/` itself the page sends (over `/zmq`)."""
    reads = [0]

    def follow(socket: WebSocket) -> None:
        def sent(payload: str | bytes) -> None:
            data = payload if isinstance(payload, bytes) else payload.encode()
            reads[0] += NAMESPACE_READ in data

        socket.on("framesent", sent)

    ui.page.on("websocket", follow)
    return reads


def save_value(ui: WebUI, path: str, value: str) -> None:
    ui.reveal(path)
    ui.type_value(value)
    expect(ui.row(path).locator(".key-value")).to_have_text(value)


def test_bulk_imports_on_a_100k_key_instance_keep_the_page_usable(
    big_ui: tuple[WebUI, list[int]], big_stack: Stack, tmp_path: Path
) -> None:
    ui, namespace_reads = big_ui
    page, big = ui.page, big_stack.instances["big"]
    ui.open_instance("big")
    save_value(ui, "user:/app/name", "before")
    opened_with = namespace_reads[0]
    assert opened_with >= 1

    # 5k keys on the host while the page saves an edit (in another file: one in the same file
    # would make `kdb import` meet a conflict, as libelektra's would).
    importing = _host_import(big, "user:/host", ini_of(HOST_IMPORT))
    save_value(ui, "system:/app/mode", "busy")
    assert importing.wait(timeout=60) == 0, importing.stderr.read() if importing.stderr else ""
    expect(ui.row("user:/host")).to_be_visible(timeout=30_000)

    # 20k keys through the page's import dialog.
    upload = tmp_path / "bulk.ini"
    upload.write_text(ini_of(PAGE_IMPORT))
    page.get_by_role("button", name="Import / Export").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Subtree").fill("user:/page")
    dialog.get_by_label("File").set_input_files(str(upload))
    dialog.get_by_role("button", name="Import", exact=True).click()
    # The preview of 20k keys reads each of the first ones on the instance.
    expect(page.get_by_test_id("confirm-changes")).to_be_visible(timeout=60_000)
    ui.apply_previewed()
    expect(dialog.get_by_role("status")).to_contain_text(
        f"Imported bulk.ini: {PAGE_IMPORT} written", timeout=60_000
    )
    dialog.get_by_role("button", name="Close").click()
    expect(ui.row("user:/page")).to_be_visible()
    save_value(ui, "user:/page/k00007", "edited")
    save_value(ui, "user:/host/k00042", "edited too")

    assert big.kdb("get", "user:/page/k00007").stdout.strip() == "edited"
    assert big.kdb("get", "user:/host/k00042").stdout.strip() == "edited too"
    assert big.kdb("get", "system:/app/mode").stdout.strip() == "busy"
    expect(page.locator(".error-card")).to_have_count(0)
    # The new branches were read on their own: `user:/` holds 100k keys the page never loaded.
    assert namespace_reads[0] == opened_with


def _host_import(instance: Instance, key: str, data: str) -> subprocess.Popen[str]:
    """`kdb import` on the host, running while the test goes on."""
    process = instance.start_kdb("import", key, "ini")
    assert process.stdin is not None
    process.stdin.write(data)
    process.stdin.close()
    return process

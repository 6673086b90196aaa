"""Searching the whole instance on the server; export (download) and import (upload)."""

from __future__ import annotations

from playwright.sync_api import expect

from .stack import Instance
from .ui import WebUI


def test_search_counts_results_and_says_when_there_are_none(ui: WebUI) -> None:
    page = ui.page
    ui.open_instance("web-1")
    search = page.get_by_label("Search keys")
    search.fill("demo/web/server/")
    search.press("Enter")
    # five keys in spec:/ and their five in system:/
    expect(page.get_by_test_id("result-count")).to_have_text("10 results")
    page.locator(".result", has_text="system:/demo/web/server/port").click()
    expect(page.locator("#key-title")).to_have_text("system:/demo/web/server/port")
    ui.screenshot("search")
    search.fill("no-such-key-anywhere")
    search.press("Enter")
    expect(page.get_by_test_id("result-count")).to_have_text("No results")


def test_search_in_values_when_asked(ui: WebUI) -> None:
    page = ui.page
    ui.open_instance("web-1")
    page.get_by_label("Search keys").fill("shop\\.pem")
    page.get_by_label("values too").check()
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("result-count")).to_have_text("1 result")


def test_export_downloads_and_import_uploads(ui: WebUI, web1: Instance, tmp_path) -> None:
    page = ui.page
    ui.open_instance("web-1")
    page.get_by_role("button", name="Import / Export").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Subtree").fill("system:/demo/web/server")
    dialog.get_by_label("Format").select_option("ini")
    with page.expect_download() as download:
        dialog.get_by_role("button", name="Download export").click()
    exported = tmp_path / "export.ini"
    download.value.save_as(exported)
    text = exported.read_text()
    assert "port" in text and "8080" in text, text

    upload = tmp_path / "imported.ini"
    upload.write_text("[limits]\nrequests = 100\nburst = 20\n")
    dialog.get_by_label("Subtree").fill("user:/imported")
    dialog.get_by_label("File").set_input_files(str(upload))
    expect(dialog.get_by_label("Format")).to_have_value("ini")
    dialog.get_by_role("button", name="Import", exact=True).click()
    expect(dialog.get_by_role("status")).to_contain_text("Imported imported.ini")
    assert web1.kdb("get", "user:/imported/limits/requests").stdout.strip() == "100"
